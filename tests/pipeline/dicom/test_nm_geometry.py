"""NM tomographic reconstructions are placed from the Detector Information Sequence and a
signed SpacingBetweenSlices (PS3.3 C.8.4.10/11; OHIF #4352: a negative spacing ignored turned
SPECT volumes upside down). Expected by hand: the first frame's corner at (-6.6, -6.6, 100)
LPS, frames every -4.4 mm along the normal +z, so frame k sits at z = 100 - 4.4 k and the
volume, sorted along the normal, starts with frame 3 at z = 86.8.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

NM = "1.2.840.10008.5.1.4.1.1.20"


def _nm(step: float, slices: int = 4) -> Dataset:
    ds = image_dataset(NM, "NM", 4, 4)
    ds.NumberOfFrames = 4
    ds.ImageType = ["ORIGINAL", "PRIMARY", "RECON TOMO", "EMISSION"]
    ds.NumberOfSlices = slices
    ds.SpacingBetweenSlices, ds.SliceThickness, ds.PixelSpacing = step, abs(step), [4.4, 4.4]
    detector = Dataset()
    detector.ImagePositionPatient = [-6.6, -6.6, 100.0]
    detector.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.DetectorInformationSequence = [detector]
    frames = np.stack([np.full((4, 4), 10 * k) for k in range(4)]).astype("<u2")
    ds.PixelData = frames.tobytes()
    return ds


def _convert(tmp_path: Path, ds: Dataset, fmt: str) -> tuple[Path, list[dict[str, str]]]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    ds.save_as(src / "nm.dcm", enforce_file_format=True)
    out = tmp_path / fmt
    assert main(["convert", str(src), str(out), "--format", fmt, "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        return out, list(csv.DictReader(f))


def test_negative_spacing_stacks_frames_in_front_of_the_first(tmp_path: Path) -> None:
    out, (row,) = _convert(tmp_path, _nm(-4.4), "nifti")
    img = nib.load(out / row["output"])
    assert np.asarray(img.dataobj)[0, 0, :].tolist() == [30, 20, 10, 0]
    expected = np.diag([-4.4, -4.4, 4.4, 1.0])  # LPS -> RAS flips the first two axes
    expected[:3, 3] = [6.6, 6.6, 86.8]
    assert img.affine == pytest.approx(expected, abs=1e-4)
    assert row["problems"] == "" and row["slice_spacing"] == "4.4"
    _, rows = _convert(tmp_path, _nm(-4.4), "npy")
    assert sorted((int(r["frame"]), int(r["slice_index"])) for r in rows) == [
        (0, 3), (1, 2), (2, 1), (3, 0)
    ]  # fmt: skip


def test_positive_spacing_keeps_the_file_order(tmp_path: Path) -> None:
    out, (row,) = _convert(tmp_path, _nm(4.4), "nifti")
    img = nib.load(out / row["output"])
    assert np.asarray(img.dataobj)[0, 0, :].tolist() == [0, 10, 20, 30]
    assert img.affine[:3, 3] == pytest.approx([6.6, 6.6, 100.0])


def test_gated_frames_are_not_placed_as_slices(tmp_path: Path) -> None:
    _, (row,) = _convert(tmp_path, _nm(-4.4, slices=2), "nifti")  # 2 slices x 2 gates
    assert "no geometry" in row["problems"]


def _windows(order: str) -> Dataset:
    """2 energy windows x 3 slices (PS3.3 C.8.4.8): FrameIncrementPointer names
    EnergyWindowVector and SliceVector; frame k holds the value 10 k. ``order`` "window":
    each window's slices together; "slice": the windows of each slice together."""
    ds = _nm(4.4, slices=3)
    ds.NumberOfFrames, ds.NumberOfEnergyWindows = 6, 2
    ds.FrameIncrementPointer = [0x00540010, 0x00540080]  # EnergyWindowVector, SliceVector
    if order == "window":
        ds.EnergyWindowVector, ds.SliceVector = [1, 1, 1, 2, 2, 2], [1, 2, 3, 1, 2, 3]
    else:
        ds.EnergyWindowVector, ds.SliceVector = [1, 2, 1, 2, 1, 2], [1, 1, 2, 2, 3, 3]
    ds.PixelData = np.stack([np.full((4, 4), 10 * k) for k in range(6)]).astype("<u2").tobytes()
    return ds


@pytest.mark.parametrize(
    ("order", "expected"),
    [("window", [[0, 10, 20], [30, 40, 50]]), ("slice", [[0, 20, 40], [10, 30, 50]])],
)
def test_energy_windows_are_one_volume_each_placed_by_slice(
    tmp_path: Path, order: str, expected: list[list[int]]
) -> None:
    # Expected by hand: window w's volume holds its frames in SliceVector order, at
    # z = 100 + 4.4 (slice - 1); before, 6 frames of 3 slices got no geometry and one volume
    # held both windows' slices one after the other (or interleaved), unsaid.
    out, rows = _convert(tmp_path, _windows(order), "nifti")
    assert len(rows) == 2
    volumes = [nib.load(out / r["output"]) for r in rows]
    assert sorted(np.asarray(v.dataobj)[0, 0, :].tolist() for v in volumes) == expected
    for v in volumes:
        assert v.affine[:3, 3] == pytest.approx([6.6, 6.6, 100.0])
        assert v.header.get_zooms()[:3] == pytest.approx((4.4, 4.4, 4.4))
    assert [r["problems"] for r in rows] == ["", ""]  # a split by tags, as echoes: no problem


def test_frames_the_vectors_do_not_tell_apart_stay_without_geometry(tmp_path: Path) -> None:
    ds = _windows("window")
    ds.EnergyWindowVector = [1, 1, 1, 1, 1, 1]  # (window, slice) repeats: no placing guessed
    _, (row,) = _convert(tmp_path, ds, "nifti")
    assert "no geometry" in row["problems"]
