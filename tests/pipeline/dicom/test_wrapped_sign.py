"""Signed CT values stored under PixelRepresentation 0 (air -1000 read as 64536 HU).

The values stay as the header states them (pydicom and dcmtk read them so); a note says the
values look signed and gives the range they would have as signed. Expected ranges come from
numpy's own two's complement view of the stored words (``astype(int16)``), not from radpipe.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import CTImageStorage, MRImageStorage

from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main


def _image(
    tmp_path: Path,
    hu: np.ndarray,
    *,
    stored_bits: int = 16,
    intercept: float = 0,
    modality: str = "CT",
    wrap: bool = True,
) -> tuple[dict[str, str], np.ndarray]:
    """One 8 x 8 image, PixelRepresentation 0; ``hu - intercept`` written as ``stored_bits``
    two's complement when ``wrap``; returns the manifest row and the NPY written."""
    sop = CTImageStorage if modality == "CT" else MRImageStorage
    ds = image_dataset(sop, modality, 8, 8, stored=stored_bits)
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [1, 1], 1, intercept
    values = (hu - intercept).astype(np.int64)
    words = values % (1 << stored_bits) if wrap else values
    ds.PixelData = words.astype("<u2").tobytes()
    src = write_folder(tmp_path / "src", a=ds)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    return row, np.load(out / row["output"])


def _body(background: float) -> np.ndarray:
    hu = np.full((8, 8), background)
    hu[2:6, 2:6] = 40  # 16 pixels of soft tissue
    return hu


@pytest.mark.parametrize(
    ("bits", "intercept", "background"),
    [(16, 0, -1000), (16, -1024, -2000), (12, 0, -1000)],
    ids=["air-64536", "padding-63536-intercept", "12-bit-3096"],
)
def test_wrapped_signed_values_are_said_and_kept(
    tmp_path: Path, bits: int, intercept: float, background: float
) -> None:
    row, image = _image(tmp_path, _body(background), stored_bits=bits, intercept=intercept)
    stored = (_body(background) - intercept).astype(np.int64) % (1 << bits)
    assert image.tolist() == (stored + intercept).tolist()  # kept as the header says
    as_signed = np.where(stored >= 1 << (bits - 1), stored - (1 << bits), stored) + intercept
    assert as_signed.min() == background and as_signed.max() == 40  # the true values
    assert "the values look signed: 48 of 64 stored values have the high bit" in row["problems"]
    assert f"would span {background:g} to 40 HU" in row["problems"]


@pytest.mark.parametrize(
    ("hu", "intercept", "modality"),
    [
        (_body(-1000), -1024, "CT"),  # ordinary unsigned CT: air stored as 24
        (np.where(_body(-1000) == 40, 30710, -1000), -1024, "CT"),  # extended scale, metal
        (np.full((8, 8), 40000.0), 0, "MR"),  # MR values have no HU range
    ],
    ids=["unsigned-ct", "extended-ct-scale", "mr"],
)
def test_true_unsigned_values_are_not_doubted(
    tmp_path: Path, hu: np.ndarray, intercept: float, modality: str
) -> None:
    row, image = _image(tmp_path, hu, intercept=intercept, modality=modality, wrap=False)
    assert image.tolist() == hu.tolist()
    assert "look signed" not in row["problems"]
