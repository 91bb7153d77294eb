"""``--per series`` lists every source file: ``manifest.csv`` has one row per output volume,
``sources.csv`` one per file and volume with ``slices``, the output slices the file became
(dcm2niix#341's file-to-slice map), and files dropped as duplicates are in ``errors.csv`` as
skipped. Expected slices are worked out
from the synthetic headers by hand (position along the normal, InstanceNumber of time)."""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.uid import generate_uid

from pipeline.data.io import read_manifest
from pipeline.keys import hash_key
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_file_names_the_slice_it_became(tmp_path: Path) -> None:
    series = generate_uid()
    z = [7.5, -2.5, 2.5, 12.5, 0.0 - 7.5]  # shuffled; 5 mm apart
    names = ["a", "b", "c", "d", "e"]
    src = G.save(tmp_path / "in", [G.plane((0.0, 0.0, v), value=k + 1, series=series)
                                   for k, v in enumerate(z)], names)  # fmt: skip
    convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    rows = _rows(tmp_path / "out" / "sources.csv")
    slices = {r["source"]: r["slice"] for r in rows}
    # ascending along +z (the normal of an axial stack): e(-7.5) b(-2.5) c(2.5) a(7.5) d(12.5)
    assert slices == {"e.dcm": "0", "b.dcm": "1", "c.dcm": "2", "a.dcm": "3", "d.dcm": "4"}
    data = np.asarray(nib.load(tmp_path / "out" / rows[0]["output"]).dataobj)
    for k, name in enumerate(names):  # the slice named holds that file's pixels
        assert np.all(data[:, :, int(slices[f"{name}.dcm"])] == k + 1)
    (one,) = read_manifest(tmp_path / "out" / "manifest.csv")
    assert (one["source"], one["slice_index"]) == ("e.dcm", None)  # its first slice's file
    assert {r["instance_key"] for r in rows} == {
        hash_key(str(pydicom.dcmread(tmp_path / "in" / f"{n}.dcm").SOPInstanceUID)) for n in names
    }


def test_enhanced_multiframe_one_row_per_frame_with_its_slice(tmp_path: Path) -> None:
    # frame k holds 100 + k at z = 5 * (2, 0, 1, 3)[k] mm: slices by z are frames 1, 2, 0, 3
    positions = [(0.0, 0.0, 5.0 * k) for k in (2, 0, 1, 3)]
    src = G.save(tmp_path / "in", [G.enhanced(positions)], ["mf"])
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy", per="series"),
                   progress=False)  # fmt: skip
    rows = _rows(tmp_path / "out" / "sources.csv")
    assert [(r["source"], r["frame"], r["slice"]) for r in rows] == [
        ("mf.dcm", "1", "0"),
        ("mf.dcm", "2", "1"),
        ("mf.dcm", "0", "2"),
        ("mf.dcm", "3", "3"),
    ]
    volume = np.load(tmp_path / "out" / rows[0]["output"])
    for r in rows:  # the slice named holds that frame's pixels
        assert np.all(volume[int(r["slice"])] == 100 + int(r["frame"]))


def test_tilt_corrected_slices_are_not_claimed(tmp_path: Path) -> None:
    c, s = float(np.cos(np.radians(15))), float(np.sin(np.radians(15)))
    series = generate_uid()
    src = G.save(tmp_path / "in", [G.plane((0.0, 0.0, 5.0 * k), (1, 0, 0, 0, c, -s),
                                           series=series, sop_class=G.CT) for k in range(3)],
                 ["a", "b", "c"])  # fmt: skip
    for tilt, expected in (("resample", ["0", "", ""]), ("keep", ["0", "1", "2"])):
        out = tmp_path / tilt
        convert_folder(src, out, ConvertOptions(format="nifti", tilt=tilt), progress=False)
        # slice 0 is not shifted; the others are moved in-plane, so they hold no file's pixels
        assert [r["slice"] for r in _rows(out / "sources.csv")] == expected


def test_time_points_and_resampled_volumes(tmp_path: Path) -> None:
    series = generate_uid()
    # 2 positions x 2 time points, TR set: one 4-D volume; InstanceNumber orders time
    files = [G.plane((0.0, 0.0, 5.0 * zi), value=10 * t + zi, series=series, RepetitionTime=2000,
                     InstanceNumber=2 * t + zi + 1, AcquisitionNumber=1)
             for t in range(2) for zi in range(2)]  # fmt: skip
    gap = generate_uid()
    files += [G.plane((0.0, 0.0, v), series=gap) for v in (0.0, 1.0, 3.0)]  # resampled
    # resampled onto 0, 1.75, 3.5 mm (steps 1.5, 2: the smallest step fitted to the extent):
    # the file at 1.5 mm has no slice of its own, the two ends keep theirs
    off = generate_uid()
    files += [G.plane((0.0, 0.0, v), series=off) for v in (0.0, 1.5, 3.5)]
    names = ["t0z0", "t0z1", "t1z0", "t1z1", "g0", "g1", "g3", "h0", "h1", "h3"]
    src = G.save(tmp_path / "in", files, names)
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 0 and result.outputs == 3
    slices = {r["source"]: r["slice"] for r in _rows(tmp_path / "out" / "sources.csv")}
    assert slices == {"t0z0.dcm": "0:0", "t0z1.dcm": "0:1", "t1z0.dcm": "1:0", "t1z1.dcm": "1:1",
                      "g0.dcm": "0", "g1.dcm": "1", "g3.dcm": "3",  # grid 0, 1, 2, 3 mm
                      "h0.dcm": "0", "h1.dcm": "", "h3.dcm": "2"}  # fmt: skip


def test_duplicates_skipped_and_kept_skipped_on_resume(tmp_path: Path) -> None:
    series = generate_uid()
    a, b = (G.plane((0.0, 0.0, 2.0 * k), series=series) for k in range(2))
    src = G.save(tmp_path / "in", [a, b, b], ["a", "b", "b_copy"])
    options = ConvertOptions(format="npy", per="series")
    first = convert_folder(src, tmp_path / "out", options, progress=False)
    assert first.exit_code == 0 and first.not_images == [
        ("b_copy.dcm", "duplicate: every frame repeats an image at the same position; dropped")
    ]
    again = convert_folder(src, tmp_path / "out", options, progress=False)
    assert (again.skipped, again.converted, again.not_images) == (1, 0, first.not_images)
    errors = _rows(tmp_path / "out" / "errors.csv")
    assert [(r["source"], r["kind"]) for r in errors] == [("b_copy.dcm", "skipped")]
    assert sorted(r["source"] for r in _rows(tmp_path / "out" / "sources.csv")) == [
        "a.dcm",
        "b.dcm",
    ]
    assert len(_rows(tmp_path / "out" / "manifest.csv")) == 1


def test_a_series_that_gained_or_lost_a_file_is_converted_again(tmp_path: Path) -> None:
    series = generate_uid()
    src = G.save(tmp_path / "in", [G.plane((0.0, 0.0, 2.0 * k), series=series)
                                   for k in range(2)], ["a", "b"])  # fmt: skip
    options = ConvertOptions(format="npy", per="series")
    convert_folder(src, tmp_path / "out", options, progress=False)
    G.save(src, [G.plane((0.0, 0.0, 4.0), series=series)], ["c"])
    gained = convert_folder(src, tmp_path / "out", options, progress=False)
    (row,) = _rows(tmp_path / "out" / "manifest.csv")
    assert (gained.converted, gained.skipped, row["shape"]) == (1, 0, "3x8x8")
    (src / "a.dcm").unlink()
    lost = convert_folder(src, tmp_path / "out", options, progress=False)
    (row,) = _rows(tmp_path / "out" / "manifest.csv")
    assert (lost.converted, lost.skipped, row["shape"]) == (1, 0, "2x8x8")
    assert sorted(r["source"] for r in _rows(tmp_path / "out" / "sources.csv")) == [
        "b.dcm",
        "c.dcm",
    ]


def test_cli_no_gzip_writes_nii_with_the_same_voxels(tmp_path: Path) -> None:
    import subprocess
    import sys

    series = generate_uid()
    src = G.save(tmp_path / "in", [G.plane((0.0, 0.0, 3.0 * k), value=1000 + k, series=series,
                                           RescaleIntercept=-1024) for k in range(3)])  # fmt: skip
    outputs = {}
    for flag in ("", "--no-gzip"):
        out = tmp_path / f"out{flag}"
        cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out),
               "--format", "nifti", "--quiet", *([flag] if flag else [])]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        (row,) = _rows(out / "manifest.csv")
        outputs[flag] = out / row["output"]
    assert outputs[""].name.endswith(".nii.gz") and outputs["--no-gzip"].name.endswith(".nii")
    plain = nib.load(outputs["--no-gzip"])
    assert plain.get_data_dtype() == np.int16  # HU 1000 + k - 1024: whole numbers
    data = np.asarray(plain.dataobj)
    assert data[0, 0].tolist() == [-24, -23, -22]  # by hand, slice k holds 1000 + k - 1024
    np.testing.assert_array_equal(data, np.asarray(nib.load(outputs[""]).dataobj))


def test_a_series_with_a_truncated_slice_is_refused_not_interpolated(tmp_path: Path) -> None:
    """Slice 2 of 5 cut 40 bytes short fails on its own; a volume of the other four would
    interpolate a slice where the scanner stored one, so the whole series is refused and each
    of its files is named; another series converts."""
    bad, good = generate_uid(), generate_uid()
    files = [G.plane((0.0, 0.0, float(k)), series=bad) for k in range(5)]
    files += [G.plane((0.0, 0.0, float(k)), series=good) for k in range(2)]
    src = G.save(tmp_path / "in", files, [*(f"b{k}" for k in range(5)), "g0", "g1"])
    raw = (src / "b2.dcm").read_bytes()
    (src / "b2.dcm").write_bytes(raw[:-40])
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 1 and result.outputs == 1
    errors = {r["source"]: r["reason"] for r in _rows(tmp_path / "out" / "errors.csv")}
    assert "PixelData" in errors.pop("b2.dcm")  # its own reason: too short
    gap = ("whose place no readable image takes: a volume without it would have "
           "a gap (refused, as dcm2niix fails such a series)")  # fmt: skip
    assert errors == {
        f"b{k}.dcm": f"not converted: its series failed on b2.dcm, {gap}" for k in (0, 1, 3, 4)
    }
    (row,) = _rows(tmp_path / "out" / "manifest.csv")
    assert row["series_key"] == hash_key(good)
    from pipeline.dicom.index import index_folder

    said = {s.key: s.problems for s in index_folder(src).series}  # inspect says so too
    assert said[hash_key(bad)][0] == (
        f"incomplete: b2.dcm of this series failed, {gap}, so convert --per series refuses it"
    )
    assert said[hash_key(good)] == []


def test_outputs_no_longer_listed_are_removed(tmp_path: Path) -> None:
    """OUT holds exactly what the manifest lists: a series that became two time-point
    volumes leaves no stale single volume, and a per-instance run after a per-series one
    leaves no NIfTI nor sources.csv behind; files radpipe did not write stay."""
    series = generate_uid()
    src = G.save(tmp_path / "in", [G.plane((0.0, 0.0, 2.0 * k), series=series, value=k)
                                   for k in range(2)], ["a0", "a1"])  # fmt: skip
    out = tmp_path / "out"
    (out).mkdir()
    (out / "mine.txt").write_text("a user's file")
    convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    (single,) = _rows(out / "manifest.csv")
    G.save(src, [G.plane((0.0, 0.0, 2.0 * k), series=series, value=10 + k) for k in range(2)],
           ["b0", "b1"])  # co-located: a second time point  # fmt: skip
    again = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    outputs = {r["output"] for r in _rows(out / "manifest.csv")}
    assert len(outputs) == 2 and single["output"] not in outputs and again.removed == 1
    assert not (out / single["output"]).exists()
    instance = convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    listed = {r["output"] for r in _rows(out / "manifest.csv")}
    assert on_disk - listed == {"manifest.csv", "errors.csv", "convert.json",
                                ".radpipe-convert.lock", ".source-stat.csv",
                                "mine.txt"}  # fmt: skip
    assert instance.removed == 2 and len(listed) == 4
