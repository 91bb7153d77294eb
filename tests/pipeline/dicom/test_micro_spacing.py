"""Stacks of micrometre slices (preclinical micro-CT: 5-50 um voxels; Slicer #1682).

Position tolerances were absolute: frames within 0.01 mm were binned as one position and
steps within 0.05 mm of a line were even. A 9 um stack then fell two slices to a bin here
and there and was split into "time points" (a 5-slice volume and a 1-slice one); a 20 um
stack with a slice missing passed for evenly spaced, written with a 25 um step and its
slices misplaced, unsaid (GDCM PR #57 reports the same fixed 0.01 mm). Both now scale with
the data (a tenth of the pixel spacing, a fifth of the smallest step) below those limits;
clinical stacks keep them. Expected values are worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from pipeline.dicom.volume import read_volumes
from tests.pipeline.dicom.builders import image_dataset, write_folder

CT = "1.2.840.10008.5.1.4.1.1.2"


def _stack(src: Path, positions: list[float], pixel: float) -> list[str]:
    """One slice per position (z, mm); slice k's pixels are k."""
    series, study, files = generate_uid(), generate_uid(), {}
    for k, z in enumerate(positions):
        ds = image_dataset(CT, "CT", 2, 2)
        ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.InstanceNumber = series, study, k + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, z], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [pixel, pixel], pixel
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0  # as a CT has them (Type 1)
        ds.PixelData = np.full((2, 2), k, np.uint16).tobytes()
        files[f"s{k}"] = ds
    write_folder(src, **files)
    return sorted(f"{name}.dcm" for name in files)


def test_nine_micrometre_slices_are_one_volume(tmp_path: Path) -> None:
    names = _stack(tmp_path, [0.0, 0.009, 0.018, 0.027, 0.036, 0.045], 0.009)
    plan, volumes = read_volumes(tmp_path, names)
    (volume,) = volumes  # 0.036 and 0.045 mm both rounded to the 0.04 mm bin: two volumes
    assert volume.image[:, 0, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert np.allclose(volume.spacing, 0.009) and not plan.problems


def test_a_missing_micrometre_slice_is_resampled_not_spread(tmp_path: Path) -> None:
    names = _stack(tmp_path, [0.0, 0.02, 0.06, 0.08, 0.10], 0.02)  # 0.04 missing
    plan, volumes = read_volumes(tmp_path, names)
    (volume,) = volumes  # was 5 slices 0.025 mm apart: the third 5 um from its place
    assert np.isclose(volume.spacing[0], 0.02) and volume.image.shape[0] == 6
    assert volume.image[:, 0, 0].tolist() == [0, 1, 1.5, 2, 3, 4]  # 0.04: halfway 1 -> 2
    assert any(p.startswith("resampled: missing slices: 1 gap") for p in plan.problems)


def test_clinical_stacks_keep_their_tolerance(tmp_path: Path) -> None:
    # 2 mm steps with positions off by up to 0.03 mm (rounding): even, as before
    names = _stack(tmp_path, [0.0, 2.03, 4.0, 5.97, 8.0], 0.7)
    plan, volumes = read_volumes(tmp_path, names)
    (volume,) = volumes
    assert volume.image.shape[0] == 5 and np.isclose(volume.spacing[0], 2.0)
    assert not plan.problems


def test_micrometre_pixel_spacings_that_differ_are_not_one_volume(tmp_path: Path) -> None:
    # two 3-slice stacks over the same 9 um steps in one series, one of 9 um pixels, one of
    # 9.9 um: within 1e-3 mm of each other, they were one group (one spacing for both)
    names = _stack(tmp_path, [0.0, 0.009, 0.018], 0.009)
    first = pydicom.dcmread(tmp_path / names[0])
    for k, z in enumerate([0.0, 0.009, 0.018]):
        ds = pydicom.dcmread(tmp_path / names[k])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.PixelSpacing, ds.InstanceNumber = [0.0099, 0.0099], 10 + k
        ds.PixelData = np.full((2, 2), 10 + k, np.uint16).tobytes()
        assert ds.SeriesInstanceUID == first.SeriesInstanceUID and ds.ImagePositionPatient[2] == z
        ds.save_as(tmp_path / f"b{k}.dcm")
        names.append(f"b{k}.dcm")
    plan, volumes = read_volumes(tmp_path, names)
    assert sorted(v.spacing[1] for v in volumes) == [0.009, 0.0099]
    assert any("split: 2 orientations, image sizes or pixel spacings" in p for p in plan.problems)


def _time_points(src: Path, starts: list[float], step: float, pixel: float) -> list[str]:
    """Time point t (TemporalPositionIdentifier t + 1, TR 2000 ms): 4 slices from starts[t],
    ``step`` mm apart, holding 10 t + k."""
    series, study, files = generate_uid(), generate_uid(), {}
    for t, start in enumerate(starts):
        for k in range(4):
            ds = image_dataset(CT, "CT", 2, 2)
            ds.SeriesInstanceUID, ds.StudyInstanceUID = series, study
            ds.InstanceNumber, ds.TemporalPositionIdentifier = 4 * t + k + 1, t + 1
            ds.RepetitionTime = 2000.0
            ds.RescaleSlope, ds.RescaleIntercept = 1, 0  # as a CT has them (Type 1)
            ds.ImagePositionPatient = [0.0, 0.0, start + step * k]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.PixelSpacing, ds.SliceThickness = [pixel, pixel], step
            ds.PixelData = np.full((2, 2), 10 * t + k, np.uint16).tobytes()
            files[f"t{t}_{k}"] = ds
    write_folder(src, **files)
    return sorted(f"{name}.dcm" for name in files)


def test_micrometre_time_points_a_slice_apart_are_not_one_4d_volume(tmp_path: Path) -> None:
    """The second time point starts one 20 um slice further: 0.02 mm was within the absolute
    0.05 mm by which time points were taken to cover the same positions, so both were one 4-D
    volume, each slice of the second paired with its neighbour in the first. Scaled as the
    step checks are, they are two volumes, as a 2 mm stack a slice apart always was."""
    for step in (0.02, 2.0):
        src = tmp_path / f"step{step}"
        names = _time_points(src, [0.0, step], step, step)
        plan, volumes = read_volumes(src, names)
        assert len(volumes) == 2, (step, plan.notes, plan.info)
        assert any("their positions differ" in n for n in plan.notes), plan.notes
        assert sorted(v.image[:, 0, 0].tolist() for v in volumes) == [
            [0, 1, 2, 3],
            [10, 11, 12, 13],
        ]
    # the same positions: one 4-D volume (t, z), micrometre or not
    plan, volumes = read_volumes(tmp_path / "same", _time_points(tmp_path / "same", [0.0, 0.0],
                                                                 0.02, 0.02))  # fmt: skip
    (volume,) = volumes
    assert volume.image.shape[:2] in {(2, 4), (4, 2)}
