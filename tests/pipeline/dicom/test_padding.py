"""Pixel Padding Value is not interpolated with tissue when a series is resampled (gantry tilt,
missing slices): dcm2niix #262 / PR #263. Expected values worked out by hand below.

CT slices, RescaleIntercept -1024, PixelPaddingValue -2000 stored (-3024 HU).
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.dicom.padding import padding_range
from tests.pipeline.dicom.geometry_cases import CT, image, save
from workflows.cli import main

PAD_HU = -3024.0
SERIES = "1.2.826.0.1.3680043.8.498.80"


def _slice(position: tuple[float, float, float], hu: np.ndarray, **attrs: object) -> object:
    stored = np.where(np.isnan(hu), -2000, hu + 1024).astype("<i2")
    ds = image(stored.astype(np.uint16), CT, SERIES, ImagePositionPatient=list(position),
               ImageOrientationPatient=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], PixelSpacing=[1.0, 1.0],
               RescaleIntercept=-1024.0, RescaleSlope=1.0, PixelPaddingValue=-2000,
               **attrs)  # fmt: skip
    ds.PixelRepresentation = 1
    ds.PixelData = stored.tobytes()
    return ds


def _volume(tmp_path: Path, slices: list[object]) -> tuple[np.ndarray, str]:
    src = save(tmp_path / "src", slices)  # type: ignore[arg-type]
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    data = np.asarray(nib.load(out / row["output"]).dataobj, dtype=np.float64)
    return data.transpose(2, 1, 0), row["problems"]  # (slice, row, column)


def test_missing_slice_resampling_takes_the_nearest_pixel_next_to_padding(
    tmp_path: Path,
) -> None:
    # slices at z = 0, 3, 4 mm -> a 1 mm grid 0, 1, 2, 3, 4; z = 1 is 1/3 of the way to z = 3
    hu0 = np.full((4, 4), 100.0)
    hu3 = np.full((4, 4), 400.0)
    hu4 = np.full((4, 4), 700.0)
    hu0[:, 0] = np.nan  # column 0 padding in the first slice
    hu3[:, :2] = np.nan  # columns 0-1 padding in the second
    vol, problems = _volume(tmp_path, [_slice((0, 0, 0), hu0), _slice((0, 0, 3), hu3),
                                       _slice((0, 0, 4), hu4)])  # fmt: skip
    assert "resampled" in problems and vol.shape == (5, 4, 4)
    # z = 1 (weight 1/3): both padding -> padding; padding above -> nearest (below, 100 HU);
    # no padding -> 2/3 * 100 + 1/3 * 400 = 200 HU
    assert vol[1, 0].tolist() == pytest.approx([PAD_HU, 100.0, 200.0, 200.0], abs=1e-3)
    # z = 2 (weight 2/3): padding above is now the nearest -> padding; else 100/3 + 800/3 = 300
    assert vol[2, 0].tolist() == pytest.approx([PAD_HU, PAD_HU, 300.0, 300.0], abs=1e-3)
    # an acquired slice, unchanged
    assert vol[3, 0].tolist() == pytest.approx([PAD_HU, PAD_HU, 400.0, 400.0], abs=1e-3)


def test_tilt_correction_does_not_invent_values_between_padding_and_tissue(
    tmp_path: Path,
) -> None:
    # 3 slices 2 mm apart along z whose positions move 0.5 mm along y per slice (14 degrees):
    # the correction shifts slice k by k * 0.5 rows; rows hold 100 + 10 * row HU, row 0 and
    # column 0 are padding
    rows = 100.0 + 10.0 * np.arange(8)[:, None] + np.zeros((8, 8))
    rows[0, :] = rows[:, 0] = np.nan
    vol, problems = _volume(tmp_path, [_slice((0, 0.5 * k, 2.0 * k), rows) for k in range(3)])
    assert "tilt corrected" in problems
    tissue = {100.0 + 10.0 * r for r in range(1, 8)}
    averages = {105.0 + 10.0 * r for r in range(1, 7)}  # half-way between two tissue rows
    found = set(np.round(vol, 3).ravel().tolist())
    assert found <= {PAD_HU} | tissue | averages, sorted(found - tissue - averages)
    assert found & averages  # linear interpolation still used away from padding
    assert vol[0].tolist() == np.where(np.isnan(rows), PAD_HU, rows).tolist()


@pytest.mark.parametrize(
    ("value", "limit", "bits", "signed", "expected"),
    [
        (-2000, None, 16, True, (-2000, -2000)),
        (63536, None, 16, True, (-2000, -2000)),  # US bit pattern of -2000 for signed data
        (63536, None, 12, True, (-2000, -2000)),  # the same pattern in 12 stored bits
        (0, 10, 16, False, (0, 10)),  # Pixel Padding Range Limit: 0..10 inclusive
        (None, 10, 16, False, None),
    ],
)
def test_padding_range_reads_the_stored_bit_pattern(
    value: int | None, limit: int | None, bits: int, signed: bool, expected: object
) -> None:
    attrs = {"PixelPaddingValue": value, "PixelPaddingRangeLimit": limit}
    ds = {k: v for k, v in attrs.items() if v is not None}
    assert padding_range(ds, bits, signed) == expected


def test_a_resampled_volume_counts_its_own_padding_pixels(tmp_path: Path) -> None:
    # as in the missing-slice case above: slices z = 0, 3, 4 on a 1 mm grid; padding is
    # column 0 at z = 0, 1 and columns 0-1 at z = 2, 3 (hand-worked above): 4 + 4 + 8 + 8 of
    # 5 x 16 pixels, where the source slices had 4 + 8 of 48
    hu = [np.full((4, 4), v) for v in (100.0, 400.0, 700.0)]
    hu[0][:, 0] = np.nan
    hu[1][:, :2] = np.nan
    src = save(tmp_path / "src", [_slice((0, 0, z), h) for z, h in zip((0, 3, 4), hu)])  # type: ignore[arg-type]
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", "nifti", "--quiet"]) == 0
    with open(tmp_path / "out" / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["padding"] == ("24 of 80 pixels are pixel padding (no data): written as -3024")
