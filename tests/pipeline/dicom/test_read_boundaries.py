"""Boundaries of DICOM pixel reading that a mutation sweep found unpinned (mut56).

Each case is a small synthetic file; expected values are worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, MRImageStorage

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset


@pytest.mark.parametrize(
    ("signed", "stored", "padding", "pixels"),
    [
        # unsigned 12-bit MR padded with 4095: the top stored bit set is no sign bit
        (False, 12, 4095, [4095, 0, 5, 4095]),
        # signed CT padded with 0 (-1024 HU): a non-negative value is not wrapped to -65536
        (True, 16, 0, [0, 1000, 1024, 0]),
    ],
    ids=["unsigned-top-bit", "signed-non-negative"],
)
def test_a_padding_value_is_read_with_the_pixels_sign(
    tmp_path: Path, signed: bool, stored: int, padding: int, pixels: list[int]
) -> None:
    sop, modality = (CTImageStorage, "CT") if signed else (MRImageStorage, "MR")
    ds = image_dataset(sop, modality, 2, 2, stored=stored, signed=signed)
    if signed:
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelPaddingValue = padding
    ds.PixelData = np.array(pixels, "<i2" if signed else "<u2").tobytes()
    ds.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "a.dcm", "a.dcm")
    assert image.padding == (padding, padding)
    written = np.array(pixels, np.float64).reshape(2, 2) - (1024 if signed else 0)
    shown = f"{padding - (1024 if signed else 0)}"  # 4095, or 0 - 1024 = -1024 HU
    assert image.padding_cell(0, written) == (
        f"2 of 4 pixels are pixel padding (no data): written as {shown}"
    )


DX = "1.2.840.10008.5.1.4.1.1.1.1"


def _spacing(ds: Dataset, tmp_path: Path) -> tuple[tuple[float, float] | None, tuple[str, ...]]:
    ds.PixelData = np.arange(16, dtype="<u2").tobytes()
    ds.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "a.dcm", "a.dcm")
    return image.frames[0].pixel_spacing, image.problems


def test_a_pixel_spacing_5_percent_off_the_detectors_is_a_calibrated_one(tmp_path: Path) -> None:
    # 0.095 mm is not 0.1 mm: PixelSpacing was calibrated (not copied from the detector's),
    # so it is used as it is, never 0.1 / 1.25 = 0.08 mm
    ds = image_dataset(DX, "DX", 4, 4)
    ds.ImagerPixelSpacing, ds.PixelSpacing = [0.1, 0.1], [0.095, 0.095]
    ds.EstimatedRadiographicMagnificationFactor = 1.25
    assert _spacing(ds, tmp_path) == ((0.095, 0.095), ())


@pytest.mark.parametrize(
    ("factor", "expected", "noted"),
    [(1.0, 0.1, False), (1.6, 0.0625, True)],  # 0.1 / 1 = 0.1 (nothing to say); 0.1 / 1.6
    ids=["factor-1", "factor-1.6"],
)
def test_a_magnification_factor_of_1_leaves_the_spacing_unsaid(
    tmp_path: Path, factor: float, expected: float, noted: bool
) -> None:
    ds = image_dataset(DX, "DX", 4, 4)
    ds.ImagerPixelSpacing = [0.1, 0.1]
    ds.EstimatedRadiographicMagnificationFactor = factor
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((expected, expected))
    assert [p.split(":")[0] for p in problems] == (["magnification corrected"] if noted else [])
