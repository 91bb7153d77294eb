"""Classic (not Enhanced) multi-frame files with one ImagePositionPatient for all frames.

- A cine MR (FrameTime or FrameTimeVector: time points at one place) was written with an
  identity affine and qform/sform codes 0 ("affine unknown"), its place lost, and its sidecar
  had no time step. It is now a 4-D NIfTI of time points of one slice at that position.
- Frames a FrameIncrementPointer says are time points (it names FrameTime, whose value is 0)
  or a cardiac cine's phases (CardiacNumberOfImages equal to the frame count) were stacked as
  slices along the normal every SpacingBetweenSlices, said to be placed: a cine written as a
  volume. They are now left unplaced, said.
- A FrameIncrementPointer that names SliceLocationVector places the frames by it.

Expected affines by hand from PS3.3 C.7.6.2.1.1 (origin the position, columns the row and
column cosines times the column and row spacing, the normal times the slice step), LPS to RAS
by negating x and y: position (-3, -4, 10), axial cosines, PixelSpacing 0.5 x 0.5 give the RAS
origin (3, 4, 10) and the diagonal -0.5, -0.5, step. Frame k holds 100 k - 1024.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti

MR = "1.2.840.10008.5.1.4.1.1.4"
FRAME_TIME, FRAME_TIME_VECTOR, SLICE_LOCATIONS = 0x00181063, 0x00181065, 0x00182005


def _cine(**extra: object) -> Dataset:
    ds = image_dataset(MR, "MR", 4, 4, signed=True)
    ds.NumberOfFrames = 3
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [-3, -4, 10], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness, ds.SpacingBetweenSlices = [0.5, 0.5], 2, 2.5
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    for key, value in extra.items():
        setattr(ds, key, value)
    ds.PixelData = np.repeat(np.arange(3) * 100, 16).astype("<i2").tobytes()
    return ds


def _convert(tmp_path: Path, ds: Dataset, fmt: str = "nifti") -> tuple[Path, dict[str, str]]:
    out = tmp_path / fmt
    rows, errors, code = convert_nifti(write_folder(tmp_path / "src", mf=ds), out, format=fmt,
                                       per="series")  # fmt: skip
    assert code == 0 and not errors
    (row,) = rows
    return out, row


def _affine(step: float, origin_z: float = 10.0) -> np.ndarray:
    lps = np.eye(4)
    lps[:3, 0] = np.array([1.0, 0, 0]) * 0.5  # row cosines x column spacing
    lps[:3, 1] = np.array([0, 1.0, 0]) * 0.5  # column cosines x row spacing
    lps[:3, 2] = np.cross([1.0, 0, 0], [0, 1.0, 0]) * step
    lps[:3, 3] = [-3, -4, origin_z]
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def _json(nifti: Path) -> dict[str, object]:
    return json.loads(nifti.with_name(nifti.name.removesuffix(".nii.gz") + ".json").read_text())


@pytest.mark.parametrize(
    "times",
    [{"FrameTime": 40, "FrameIncrementPointer": Tag(FRAME_TIME)},
     {"FrameTimeVector": [0, 40, 40], "FrameIncrementPointer": Tag(FRAME_TIME_VECTOR)},
     {"FrameTime": 40}],
    ids=["frame-time", "frame-time-vector", "no-pointer"],
)  # fmt: skip
def test_a_cine_is_time_points_of_one_slice_at_its_position(
    tmp_path: Path, times: dict[str, object]
) -> None:
    out, row = _convert(tmp_path, _cine(**times, RepetitionTime=3.2))
    img = nib.load(out / row["output"])
    assert img.shape == (4, 4, 1, 3)
    assert img.affine == pytest.approx(_affine(2.5), abs=1e-5)  # SpacingBetweenSlices thick
    assert int(img.header["qform_code"]) == 1 and int(img.header["sform_code"]) == 1
    assert img.header.get_zooms()[3] == pytest.approx(0.04)  # 40 ms in s
    assert np.asarray(img.dataobj)[0, 0, 0, :].tolist() == [-1024, -924, -824]
    assert row["problems"] == (
        "cine: 3 frames of one file at one place over time, 40 ms apart, written as time "
        "points of one slice at its ImagePositionPatient (2.5 mm thick)"
    )
    found = _json(out / row["output"])  # the time step; the header's TR the excitations'
    assert found["RepetitionTime"] == 0.04 and found["RepetitionTimeExcitation"] == 0.0032


def test_a_cine_without_a_header_tr_still_says_its_time_step(tmp_path: Path) -> None:
    out, row = _convert(tmp_path, _cine(FrameTime=40))
    found = _json(out / row["output"])
    assert found["RepetitionTime"] == 0.04 and "RepetitionTimeExcitation" not in found


def test_a_cine_npy_is_time_points_of_one_slice_too(tmp_path: Path) -> None:
    out, row = _convert(tmp_path, _cine(FrameTime=40), "npy")
    array = np.load(out / row["output"])
    assert array.shape == (3, 1, 4, 4) and array[:, 0, 0, 0].tolist() == [-1024, -924, -824]
    side = json.loads((out / row["output"]).with_suffix(".json").read_text())
    assert side == {"axes": ["time", "slice", "row", "column"], "time_step_s": 0.04}
    assert row["spacing"] == "2.5x0.5x0.5" and row["slice_spacing"] == "2.5"


@pytest.mark.parametrize(
    ("extra", "why"),
    [({"FrameTime": 0, "FrameIncrementPointer": Tag(FRAME_TIME)},
      "whose FrameIncrementPointer (0028,0009) names FrameTime (0018,1063), missing, not one "
      "value a frame or not above 0"),
     ({"CardiacNumberOfImages": 3},
      "with CardiacNumberOfImages (0018,1090) 3 and no usable FrameTime (0018,1063): the "
      "phases of a cardiac cine")],
    ids=["pointer-to-unusable-frame-time", "cardiac-phases"],
)  # fmt: skip
def test_time_points_are_not_stacked_as_slices(
    tmp_path: Path, extra: dict[str, object], why: str
) -> None:
    """Their SpacingBetweenSlices of 2.5 mm stacked them 2.5 mm apart, said to be placed."""
    out, row = _convert(tmp_path, _cine(**extra))
    img = nib.load(out / row["output"])
    assert int(img.header["qform_code"]) == 0 and int(img.header["sform_code"]) == 0
    assert row["slice_spacing"] == ""
    assert row["problems"].split("; ")[0] == (
        f"one ImagePositionPatient for the 3 frames of a classic multi-frame image, {why}: "
        "time points, not stacked as slices by SpacingBetweenSlices, not placed, time step "
        "unknown"
    )


@pytest.mark.parametrize(
    ("locations", "order", "origin_z"),
    [([5, 8, 11], [-1024, -924, -824], 10.0), ([11, 8, 5], [-824, -924, -1024], 4.0)],
    ids=["increasing", "decreasing"],
)
def test_a_slice_location_vector_places_the_frames(
    tmp_path: Path, locations: list[int], order: list[int], origin_z: float
) -> None:
    """Frame k at z = 10 + locations[k] - locations[0] (3 mm apart; the SpacingBetweenSlices
    of 2.5 is not what the pointer names): decreasing, frame 2 is lowest, at z = 4."""
    ds = _cine(FrameIncrementPointer=Tag(SLICE_LOCATIONS), SliceLocationVector=locations)
    out, row = _convert(tmp_path, ds)
    img = nib.load(out / row["output"])
    assert img.affine == pytest.approx(_affine(3.0, origin_z), abs=1e-5)
    assert np.asarray(img.dataobj)[0, 0, :].tolist() == order
    assert "SliceLocationVector (0018,2005) [k] - [0] mm along the slice normal" in row["problems"]


def test_slice_locations_beside_frame_times_are_slices_not_one_place(tmp_path: Path) -> None:
    """A FrameIncrementPointer naming both FrameTime and SliceLocationVector: frames at three
    places (taken over time), not a cine at the one position."""
    ds = _cine(FrameTime=40, SliceLocationVector=[5, 8, 11],
               FrameIncrementPointer=[Tag(FRAME_TIME), Tag(SLICE_LOCATIONS)])  # fmt: skip
    out, row = _convert(tmp_path, ds)
    img = nib.load(out / row["output"])
    assert img.shape == (4, 4, 3)
    assert img.affine == pytest.approx(_affine(3.0), abs=1e-5)


def test_a_pointer_to_several_elements_still_names_the_frame_time(tmp_path: Path) -> None:
    """A rotational XA run's FrameIncrementPointer names FrameTime and the angle vectors: a
    pydicom MultiValue, which was read as one unreadable tag, so the 40 ms step was lost
    (3-D, a frame step of 1). Unplaced (an XA IOD has no ImagePositionPatient)."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.12.1", "XA", 4, 4)
    ds.NumberOfFrames, ds.FrameTime = 3, 40
    ds.FramePrimaryAngleVector = [0, 10, 20]
    ds.FrameIncrementPointer = [Tag(FRAME_TIME), Tag(0x00182003)]
    ds.PixelData = np.repeat(np.arange(3) * 100, 16).astype("<u2").tobytes()
    out, row = _convert(tmp_path, ds)
    img = nib.load(out / row["output"])
    assert img.shape == (4, 4, 1, 3) and img.header.get_zooms()[3] == pytest.approx(0.04)
    assert int(img.header["qform_code"]) == 0


def test_frames_a_pointer_labels_otherwise_are_not_slices(tmp_path: Path) -> None:
    """A FrameIncrementPointer naming FrameLabelVector (0018,2002): frames told apart by a
    label, not slices, so its SpacingBetweenSlices of 2.5 does not stack them."""
    ds = _cine(FrameLabelVector=["a", "b", "c"], FrameIncrementPointer=Tag(0x00182002))
    out, row = _convert(tmp_path, ds)
    img = nib.load(out / row["output"])
    assert int(img.header["qform_code"]) == 0 and row["slice_spacing"] == ""
    assert row["problems"].split("; ")[0] == (
        "one ImagePositionPatient for the 3 frames of a classic multi-frame image, whose "
        "FrameIncrementPointer (0028,0009) names FrameLabelVector (0018,2002): frames that "
        "differ by it, not slices, so not stacked by SpacingBetweenSlices, not placed"
    )


def _slice_cine(z: float, s: int) -> Dataset:
    ds = _cine(FrameTime=40, ImagePositionPatient=[-3, -4, z], InstanceNumber=s + 1)
    ds.NumberOfFrames, ds.SpacingBetweenSlices = 4, 8
    ds.PixelData = np.repeat(100 * s + np.arange(4), 16).astype("<i2").tobytes()
    return ds


def test_cine_files_one_slice_each_are_one_4d_volume(tmp_path: Path) -> None:
    """A short-axis cine filed one file a slice (z = 10, 18, 26; files in another order):
    one NIfTI of 4 time points of 3 slices 8 mm apart, slice s time t holding 100 s + t - 1024;
    each file was a volume of its own."""
    series = "1.2.826.0.1.3680043.8.498.1174"
    files = {f"f{n}": _slice_cine(z, s) for n, (z, s) in enumerate([(26, 2), (10, 0), (18, 1)])}
    for ds in files.values():
        ds.SeriesInstanceUID = series
    rows, errors, code = convert_nifti(write_folder(tmp_path / "src", **files), tmp_path / "out")
    assert code == 0 and not errors
    (row,) = rows
    img = nib.load(tmp_path / "out" / row["output"])
    assert img.shape == (4, 4, 3, 4) and img.header.get_zooms()[3] == pytest.approx(0.04)
    assert img.affine == pytest.approx(_affine(8.0), abs=1e-5)
    want = [[100 * s + t - 1024 for t in range(4)] for s in range(3)]
    assert np.asarray(img.dataobj)[0, 0].tolist() == want


def test_cine_files_unevenly_apart_stay_one_volume_each(tmp_path: Path) -> None:
    series = "1.2.826.0.1.3680043.8.498.1175"
    files = {f"f{s}": _slice_cine(z, s) for s, z in enumerate([10, 18, 30])}
    for ds in files.values():
        ds.SeriesInstanceUID = series
    rows, errors, code = convert_nifti(write_folder(tmp_path / "src", **files), tmp_path / "out")
    assert code == 0 and not errors and len(rows) == 3
    assert all(nib.load(tmp_path / "out" / r["output"]).shape == (4, 4, 1, 4) for r in rows)
