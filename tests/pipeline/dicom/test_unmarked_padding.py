"""CT padding outside the scan circle without a PixelPaddingValue: said, values kept.

A constant -3024 HU border (stored -2000, intercept -1024) outside the reconstructed circle,
with no PixelPaddingValue (0028,0120), was written without a word: the manifest's padding
column stayed empty and statistics counted the border as tissue. Expected values are worked
out by hand from the circle built: a 16 x 16 slice, radius 8 around the centre.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import CTImageStorage

from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main

SAID = (
    "no PixelPaddingValue (0028,0120), but the corners and at least 5% of the pixels hold the "
    "minimum, -3024 HU (stored -2000), far below air: likely padding outside the scan circle, "
    "written as it is and not counted in the padding column (mask it before statistics or "
    "normalization)"
)
YY, XX = np.mgrid[:16, :16]
INSIDE = (YY - 7.5) ** 2 + (XX - 7.5) ** 2 <= 64


def _convert(tmp_path: Path, outside: int, *, padding: int | None = None) -> dict[str, str]:
    ds = image_dataset(CTImageStorage, "CT", 16, 16, signed=True)
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [1, 1], 1, -1024
    if padding is not None:
        ds.PixelPaddingValue = padding
    stored = np.where(INSIDE, 1064, outside).astype("<i2")  # 40 HU inside
    ds.PixelData = stored.tobytes()
    src = write_folder(tmp_path / "src", a=ds)
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", "npy", "--quiet"]) == 0
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    image = np.load(tmp_path / "out" / row["output"])
    assert image.tolist() == (stored.astype(float) - 1024).tolist()  # values kept
    return row


def test_an_unmarked_constant_border_far_below_air_is_said(tmp_path: Path) -> None:
    assert 256 - INSIDE.sum() >= 0.05 * 256  # the border covers more than 5 % by hand
    row = _convert(tmp_path, -2000)
    assert row["problems"] == SAID and row["padding"] == ""


@pytest.mark.parametrize(
    ("outside", "padding"),
    [(-2000, -2000), (0, None)],
    ids=["padding-value-given", "air-border"],  # marked; or -1024 HU, which air can be
)
def test_marked_padding_or_air_says_nothing(
    tmp_path: Path, outside: int, padding: int | None
) -> None:
    assert "PixelPaddingValue" not in _convert(tmp_path, outside, padding=padding)["problems"]


@pytest.mark.parametrize(
    ("slope", "corner", "low", "said"),
    [(1.0, -2000, -2000, True), (1.0, -100, -100, False), (-1.0, 1600, -2000, False),
     (-1.0, 2500, 2500, False)],
    ids=["padded", "air", "negative-slope-min-inside", "negative-slope-min-at-corners"],
)  # fmt: skip
def test_the_stored_span_settles_most_images_before_any_pass(
    slope: float, corner: int, low: int, said: bool
) -> None:
    """With the stored minimum known (``span``), an image whose minimum is not far below air
    is done with before the corners are read; what is said is what the corners tell."""
    from types import SimpleNamespace

    from pipeline.dicom.unmarked_padding import unmarked_padding_notes

    ds = image_dataset(CTImageStorage, "CT", 16, 16, signed=True)
    ds.RescaleSlope, ds.RescaleIntercept = slope, -1024
    stored = np.where(INSIDE, 1064, corner).astype("<i2")[None]
    stored[0, 8, 8] = low  # the minimum: at the corners (= corner) or one pixel inside
    frame = SimpleNamespace(slope=slope, intercept=-1024.0)
    span = (int(stored.min()), int(stored.max()))
    # by hand: the note needs every corner at the minimum and the minimum below -1500 HU
    assert span[0] == min(low, corner, 1064)
    found = unmarked_padding_notes(ds, stored, frame, None, span)
    assert found == ([SAID] if said else [])
    assert unmarked_padding_notes(ds, stored, frame, None) == found  # without the span: same
