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
from workflows.convert.sources import _runs


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_runs_compress_slices_and_mark_time_points() -> None:
    assert _runs([(0, 3), (0, 4), (0, 5)], four_d=False) == "3-5"
    assert _runs([(0, 0), (0, 2), (0, 3)], four_d=False) == "0;2-3"
    assert _runs([(1, 2)], four_d=True) == "1:2"
    assert _runs([(0, 0), (0, 1), (1, 0), (1, 1)], four_d=True) == "0:0-1;1:0-1"


def test_each_file_names_the_slice_it_became(tmp_path: Path) -> None:
    series = generate_uid()
    z = [7.5, -2.5, 2.5, 12.5, 0.0 - 7.5]  # shuffled; 5 mm apart
    names = ["a", "b", "c", "d", "e"]
    src = G.save(tmp_path / "in", [G.plane((0.0, 0.0, v), value=k + 1, series=series)
                                   for k, v in enumerate(z)], names)  # fmt: skip
    convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    rows = _rows(tmp_path / "out" / "sources.csv")
    slices = {r["source"]: r["slices"] for r in rows}
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


def test_enhanced_multiframe_one_row_with_a_slice_run(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 5.0 * k) for k in (2, 0, 1, 3)]
    src = G.save(tmp_path / "in", [G.enhanced(positions)], ["mf"])
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy", per="series"),
                   progress=False)  # fmt: skip
    (row,) = _rows(tmp_path / "out" / "sources.csv")
    assert (row["source"], row["slices"], row["frame"]) == ("mf.dcm", "0-3", "0")


def test_time_points_and_resampled_volumes(tmp_path: Path) -> None:
    series = generate_uid()
    # 2 positions x 2 time points, TR set: one 4-D volume; InstanceNumber orders time
    files = [G.plane((0.0, 0.0, 5.0 * zi), value=10 * t + zi, series=series, RepetitionTime=2000,
                     InstanceNumber=2 * t + zi + 1, AcquisitionNumber=1)
             for t in range(2) for zi in range(2)]  # fmt: skip
    gap = generate_uid()
    files += [G.plane((0.0, 0.0, v), series=gap) for v in (0.0, 1.0, 3.0)]  # resampled
    names = ["t0z0", "t0z1", "t1z0", "t1z1", "g0", "g1", "g3"]
    src = G.save(tmp_path / "in", files, names)
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 0 and result.outputs == 2
    slices = {r["source"]: r["slices"] for r in _rows(tmp_path / "out" / "sources.csv")}
    assert slices == {"t0z0.dcm": "0:0", "t0z1.dcm": "0:1", "t1z0.dcm": "1:0",
                      "t1z1.dcm": "1:1", "g0.dcm": "", "g1.dcm": "", "g3.dcm": ""}  # fmt: skip


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
