"""``radpipe convert`` and :func:`workflows.convert.batch.convert_folder`: outputs, manifest,
bad files, resume, workers, formats."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_modality_lut
from pydicom.uid import generate_uid

from pipeline.keys import hash_key
from pipeline.ops.scale import to_unsigned
from pipeline.ops.voi import apply_window
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.convert.batch import MANIFEST_COLUMNS, ConvertOptions, convert_folder


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("convert_study")
    write_study(out, StudySpec(patients=2, size=16, slices=4, seed=5))
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _damaged_copy(study: Path, dst: Path) -> tuple[Path, dict[str, str]]:
    src = dst / "scans"
    shutil.copytree(study / "dicom", src)
    files = sorted(src.rglob("*.dcm"))
    truncated = files[0]
    truncated.write_bytes(truncated.read_bytes()[:-200])
    ds = pydicom.dcmread(files[1])
    ds.SOPInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Rows = ds.Columns = 40000
    huge = files[1].parent / "huge.dcm"
    ds.save_as(huge)
    (src / "empty.dcm").write_bytes(b"")
    (src / "README.txt").write_text("scanner export notes\n")
    bad = {
        truncated.relative_to(src).as_posix(): "truncated file: PixelData (7FE0,0010) holds",
        huge.relative_to(src).as_posix(): "over the limit of",
        "empty.dcm": "empty file (0 bytes)",
        "README.txt": "not a DICOM file",
    }
    return src, bad


def test_bad_files_recorded_batch_goes_on_and_rerun_resumes(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, bad = _damaged_copy(study, tmp_path)
    out = tmp_path / "out"
    argv = ["convert", str(src), str(out), "--window", "lung", "--max-pixels", "1000000"]
    assert main([*argv, "--quiet"]) == 1
    assert "4 files failed" in capsys.readouterr().err
    errors = {r["source"]: r["reason"] for r in _rows(out / "errors.csv")}
    assert set(errors) == set(bad)
    for source, fragment in bad.items():
        assert fragment in errors[source], (source, errors[source])
    manifest = _rows(out / "manifest.csv")
    assert len(manifest) == 16 - 1 and list(manifest[0]) == MANIFEST_COLUMNS
    assert all((out / r["output"]).is_file() for r in manifest)
    before = {r["output"]: (out / r["output"]).stat().st_mtime_ns for r in manifest}

    for source in bad:
        (src / source).unlink()
    assert main([*argv, "--quiet"]) == 0
    assert "0 converted, 15 already done" in capsys.readouterr().out
    assert _rows(out / "errors.csv") == []
    after = _rows(out / "manifest.csv")
    assert {r["output"]: (out / r["output"]).stat().st_mtime_ns for r in after} == before
    # Slice indices follow the series as it is now (one slice fewer in one series).
    counts = {r["series_key"]: r["num_slices"] for r in after}
    assert sorted(counts.values()) == ["3", "4", "4", "4"]


def test_partial_outputs_are_redone(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = ConvertOptions(format="png16", window="none")
    first = convert_folder(study / "dicom", out, options, progress=False)
    assert first.converted == 16 and first.exit_code == 0
    rows = _rows(out / "manifest.csv")
    (out / rows[3]["output"]).unlink()
    stale = out / rows[0]["output"]
    stale_tmp = stale.parent / f".{stale.stem}.abc123.tmp.png"
    stale_tmp.write_bytes(b"half a PNG")
    again = convert_folder(study / "dicom", out, options, progress=False)
    assert (again.converted, again.skipped) == (1, 15)
    assert (out / rows[3]["output"]).is_file() and not stale_tmp.exists()
    assert _rows(out / "manifest.csv") == rows
    other = convert_folder(study / "dicom", out, ConvertOptions(format="png"), progress=False)
    assert other.converted == 16  # different options: nothing is reused


def test_manifest_joins_labels_and_values_are_right(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert_folder(study / "dicom", out, ConvertOptions(format="npy"), progress=False)
    png = tmp_path / "png"
    convert_folder(study / "dicom", png, ConvertOptions(window="lung"), progress=False)
    rows = _rows(out / "manifest.csv")
    labels = {hash_key(r["series_uid"]) for r in _rows(study / "labels.csv")}
    assert {r["series_key"] for r in rows} == labels
    for row in rows[:4]:
        ds = pydicom.dcmread(study / "dicom" / row["source"])
        hu = apply_modality_lut(ds.pixel_array, ds)
        assert hash_key(ds.SOPInstanceUID) == row["instance_key"]
        assert np.array_equal(np.load(out / row["output"]), hu.astype(np.float32))
        assert row["shape"] == "16x16" and row["window"] == "none" and row["format"] == "npy"
        assert row["spacing"] == f"{float(ds.PixelSpacing[0]):g}x{float(ds.PixelSpacing[1]):g}"
        expected = to_unsigned(apply_window(hu, -600, 1500), 8)
        written = np.asarray(Image.open(png / row["output"].replace(".npy", ".png")))
        assert np.array_equal(written, expected)
    by_series: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_series.setdefault(row["series_key"], []).append(row)
    for members in by_series.values():
        members.sort(key=lambda r: int(r["slice_index"]))
        z = [float(pydicom.dcmread(study / "dicom" / r["source"]).ImagePositionPatient[2])
             for r in members]  # fmt: skip
        assert z == sorted(z) and [r["slice_index"] for r in members] == ["0", "1", "2", "3"]


def test_nifti_volume_and_affine(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "nii"
    result = convert_folder(study / "dicom", out, ConvertOptions(format="nifti"), progress=False)
    assert result.outputs == 4 and result.exit_code == 0
    index_rows = _rows(tmp_path / "nii" / "manifest.csv")
    row = index_rows[0]
    assert row["shape"] == "4x16x16" and row["output"].endswith(".nii.gz")
    image = nib.load(out / row["output"])
    data = np.asarray(image.dataobj)
    files = [pydicom.dcmread(p) for p in (study / "dicom").rglob("*.dcm")]
    series = sorted(
        (ds for ds in files if hash_key(ds.SeriesInstanceUID) == row["series_key"]),
        key=lambda ds: float(ds.ImagePositionPatient[2]),
    )
    for k, ds in enumerate(series):
        assert np.array_equal(data[:, :, k], apply_modality_lut(ds.pixel_array, ds).T)
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        assert np.allclose(image.affine @ [0, 0, k, 1], [-x, -y, z, 1], atol=1e-3)
    assert nib.aff2axcodes(image.affine) == ("L", "P", "S")


def test_two_workers_give_the_same_manifest(study: Path, tmp_path: Path) -> None:
    one = convert_folder(study / "dicom", tmp_path / "a", ConvertOptions(), progress=False)
    two = convert_folder(study / "dicom", tmp_path / "b", ConvertOptions(workers=2), progress=False)
    assert one.converted == two.converted == 16
    assert (tmp_path / "a" / "manifest.csv").read_text() == (
        tmp_path / "b" / "manifest.csv"
    ).read_text()


def test_workers_follow_a_secret_and_umask_changed_since_the_last_run(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the workers are forked from a fork server started by the first run: the second run's
    # keys must be those of the secret set now, its files of the umask set now (library use)
    two = ConvertOptions(workers=2, format="npy")
    first = convert_folder(study / "dicom", tmp_path / "a", two, progress=False)
    assert first.converted == 16
    secret = tmp_path / "other-secret"
    secret.write_text("another-secret-for-this-test-0123456789\n")
    monkeypatch.setenv("RADPIPE_SECRET_FILE", str(secret))
    mask = os.umask(0o077)
    try:
        second = convert_folder(study / "dicom", tmp_path / "b", two, progress=False)
    finally:
        os.umask(mask)
    assert second.converted == 16
    files = [pydicom.dcmread(p) for p in (study / "dicom").rglob("*.dcm")]
    expected = {hash_key(ds.SOPInstanceUID) for ds in files}  # the new secret's keys
    rows = _rows(tmp_path / "b" / "manifest.csv")
    assert {r["instance_key"] for r in rows} == expected
    assert not expected & {r["instance_key"] for r in _rows(tmp_path / "a" / "manifest.csv")}
    outputs = [tmp_path / "b" / r["output"] for r in rows]
    assert {p.stat().st_mode & 0o777 for p in outputs} == {0o600}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--per", "series"], "--per series needs --format npy or nifti"),
        (["--window", "lungs"], "Unknown window 'lungs'"),
        (["--format", "nifti", "--per", "instance"], "use --per series"),
    ],
    ids=["png-per-series", "bad-window", "nifti-per-instance"],
)
def test_usage_errors_exit_2(
    study: Path, tmp_path: Path, extra: list[str], message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    assert main(["convert", str(study / "dicom"), str(tmp_path / "o"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "missing"), str(tmp_path / "o")]) == 2


def test_multiframe_and_colour_files(tmp_path: Path) -> None:
    from tests.pipeline.dicom.conftest import bundled

    src = tmp_path / "src"
    src.mkdir()
    for name in ("rtdose.dcm", "SC_rgb_rle_2frame.dcm"):
        shutil.copy(bundled(name), src / name)
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="png16"), progress=False)
    assert result.exit_code == 0 and result.outputs == 15 + 2
    rows = _rows(tmp_path / "out" / "manifest.csv")
    dose = sorted((r for r in rows if r["source"] == "rtdose.dcm"), key=lambda r: int(r["frame"]))
    assert [r["num_slices"] for r in dose] == ["15"] * 15
    # RT Dose frames are ordered by GridFrameOffsetVector, not ImagePositionPatient: file order.
    assert [int(r["slice_index"]) for r in dose] == list(range(15))
    ds = pydicom.dcmread(src / "rtdose.dcm")
    frame3 = np.asarray(Image.open(tmp_path / "out" / dose[3]["output"]))
    # no window: the file's own smallest to largest dose maps onto 0..65535 (the full 32-bit
    # stored range did until 2026-12-03: this frame was 12..19 of 65535, black)
    dose_values = ds.pixel_array.astype(np.float64) * float(ds.DoseGridScaling)
    low, high = dose_values.min(), dose_values.max()
    assert np.array_equal(frame3, to_unsigned((dose_values[3] - low) / (high - low), 16))
    colour = [r for r in rows if r["source"] == "SC_rgb_rle_2frame.dcm"]
    assert {r["shape"] for r in colour} == {"100x100x3"}
    png = np.asarray(Image.open(tmp_path / "out" / colour[1]["output"]))
    assert np.array_equal(png, pydicom.dcmread(src / "SC_rgb_rle_2frame.dcm").pixel_array[1])


def test_series_with_two_time_points_gives_two_volumes(study: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    files = sorted((study / "dicom").rglob("*.dcm"))
    uid = pydicom.dcmread(files[0]).SeriesInstanceUID
    members = [f for f in files if pydicom.dcmread(f).SeriesInstanceUID == uid]
    for t in (1, 2):
        for k, path in enumerate(members):
            ds = pydicom.dcmread(path)
            ds.SOPInstanceUID, ds.TemporalPositionIdentifier = generate_uid(), t
            ds.save_as(src / f"t{t}_{k}.dcm")
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="npy", per="series"),
                            progress=False)  # fmt: skip
    assert result.exit_code == 0
    rows = _rows(tmp_path / "out" / "manifest.csv")  # one row per volume
    listed = _rows(tmp_path / "out" / "sources.csv")  # one row per file and volume
    assert len(listed) == 8 and len({r["source"] for r in listed}) == 8
    assert [r["output"].rsplit("_", 1)[1] for r in rows] == ["s00.npy", "s01.npy"]
    # time point t's files make up volume s0(t-1), each the slice of its position
    z = {f"t{t}_{k}.dcm": float(pydicom.dcmread(src / f"t{t}_{k}.dcm").ImagePositionPatient[2])
         for t in (1, 2) for k in range(len(members))}  # fmt: skip
    for t in (1, 2):
        mine = sorted((r for r in listed if r["source"].startswith(f"t{t}_")),
                      key=lambda r: z[r["source"]])  # fmt: skip
        assert {r["output"][-7:-4] for r in mine} == {f"s0{t - 1}"}
        assert [r["slice"] for r in mine] == ["0", "1", "2", "3"]
    assert {r["shape"] for r in rows} == {"4x16x16"} and {r["num_slices"] for r in rows} == {"4"}
    first, second = (np.load(tmp_path / "out" / r["output"]) for r in rows)
    assert np.array_equal(first, second)  # the same slices, each volume in anatomical order
    z = sorted(float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in members)
    bottom = next(p for p in members if float(pydicom.dcmread(p).ImagePositionPatient[2]) == z[0])
    ds = pydicom.dcmread(bottom)
    assert np.array_equal(first[0], apply_modality_lut(ds.pixel_array, ds))


def test_a_finished_conversion_leaves_no_partial_manifests(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation: the partial manifests flushed during the run kept once ``manifest.csv`` is
    written (hidden files a later resume would read). Flushed after every file here."""
    import workflows.convert.batch as batch
    from workflows.convert.resume import partial_files

    monkeypatch.setattr(batch, "_FLUSH_SECONDS", 0.0)
    seen: list[int] = []
    real = batch.Partial.add

    def add(self: Any, *args: Any) -> Any:
        out = real(self, *args)
        seen.append(len(partial_files(self.out)))
        return out

    monkeypatch.setattr(batch.Partial, "add", add)
    convert_folder(study / "dicom", tmp_path / "out", ConvertOptions(workers=1), progress=False)
    assert max(seen) > 0  # flushed while converting
    assert partial_files(tmp_path / "out") == []
