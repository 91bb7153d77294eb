"""A classic multi-frame CT/MR file gives one ImagePositionPatient for all its frames (cone-beam
CT, converted volumes; Slicer #6773, #7496). It was read as "no geometry: images without
ImagePositionPatient" (the one attribute it had) with a frame step of 1 for its
SpacingBetweenSlices of 2.5 mm; now its frames are stacked from that position along the
normal every SpacingBetweenSlices, as ITK and an NM reconstruction read them, and noted.

Expected by hand: axial frames, the first at (-3, -4, 10) LPS, SpacingBetweenSlices 2.5, so
frame k at z = 10 + 2.5 k; in RAS the origin is (3, 4, 10) and the columns are -0.5, -0.5,
2.5 on the diagonal. Frame k holds 100 k stored, -1024 + 100 k HU.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti

CT, MR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"


def _classic(step: float | None, **extra: object) -> Dataset:
    ds = image_dataset(CT, "CT", 4, 4, signed=True)
    ds.NumberOfFrames = 3
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [-3, -4, 10], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 2
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    if step is not None:
        ds.SpacingBetweenSlices = step
    for key, value in extra.items():
        setattr(ds, key, value)
    ds.PixelData = np.repeat(np.arange(3) * 100, 16).astype("<i2").tobytes()
    return ds


def _convert(tmp_path: Path, ds: Dataset, fmt: str = "nifti") -> tuple[Path, list[dict[str, str]]]:
    rows, errors, code = convert_nifti(write_folder(tmp_path / "src", mf=ds), tmp_path / fmt,
                                       format=fmt)  # fmt: skip
    assert code == 0 and not errors
    return tmp_path / fmt, rows


def test_frames_are_stacked_by_spacing_between_slices_and_said(tmp_path: Path) -> None:
    out, (row,) = _convert(tmp_path, _classic(2.5))
    img = nib.load(out / row["output"])
    expected = np.diag([-0.5, -0.5, 2.5, 1.0])
    expected[:3, 3] = [3, 4, 10]
    assert img.affine == pytest.approx(expected, abs=1e-5)
    assert np.asarray(img.dataobj)[0, 0, :].tolist() == [-1024, -924, -824]
    assert row["slice_spacing"] == "2.5" and row["spacing"] == "2.5x0.5x0.5"
    assert row["problems"] == (
        "one ImagePositionPatient for the 3 frames of a classic multi-frame image: frame k "
        "placed at it + k x SpacingBetweenSlices (0018,0088) 2.5 mm along the slice normal, "
        "as ITK and an NM reconstruction read it"
    )


def test_per_instance_outputs_follow_the_stack(tmp_path: Path) -> None:
    """A negative spacing stacks the frames in front of the first: slice 0 is frame 2."""
    _, rows = _convert(tmp_path, _classic(-2.5), "npy")
    assert sorted((int(r["frame"]), int(r["slice_index"])) for r in rows) == [
        (0, 2), (1, 1), (2, 0)
    ]  # fmt: skip


def test_without_spacing_the_frames_stay_unplaced_and_it_says_why(tmp_path: Path) -> None:
    _, (row,) = _convert(tmp_path, _classic(None))
    assert row["problems"].split("; ") == [
        "one ImagePositionPatient for the 3 frames of a classic multi-frame image, and no "
        "SpacingBetweenSlices (0018,0088) to stack them by: its frames are not placed",
        "no geometry: 3 frames of one file without ImagePositionPatient for each frame, "
        "affine unknown, in the file's frame order",
    ]


def test_a_cine_at_one_place_is_not_stacked(tmp_path: Path) -> None:
    ds = _classic(2.5, FrameTime=40)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = MR
    ds.Modality = "MR"
    _, (row,) = _convert(tmp_path, ds)
    assert row["shape"] == "3x1x4x4"  # time points of one slice (test_classic_cine_geometry)
    assert "SpacingBetweenSlices" not in row["problems"]
