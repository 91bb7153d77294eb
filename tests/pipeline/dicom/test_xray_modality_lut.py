"""An XA/XRF image's Modality LUT is not applied (PS3.4 N.2.5; fo-dicom #1442, dcmtk).

In X-Ray Angiographic and Radiofluoroscopic images the Modality LUT maps stored values back
to X-ray beam intensity; the window is set on the stored values. Applied first, the window
saturated: the PNG came out white. Expected values by hand: the LINEAR window (PS3.3
C.11.2.1.2.1) on the stored values, as dcmtk and fo-dicom render it.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage

from pipeline.dicom import read_instance
from pipeline.dicom.read import render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset

XA = "1.2.840.10008.5.1.4.1.1.12.1"
XRF = "1.2.840.10008.5.1.4.1.1.12.2"
STORED = [0, 100, 512, 1023]


def _lut() -> Dataset:
    """10-bit stored -> 16-bit beam intensity, exponential (Pixel Intensity Relationship LOG)."""
    item = Dataset()
    item.LUTDescriptor = [1024, 0, 16]
    item.ModalityLUTType = "US"
    entries = np.round(65535 * np.expm1(np.arange(1024) / 1023 * 4) / np.expm1(4))
    item.LUTData = entries.astype("<u2").tobytes()
    return item


def _image(tmp_path, sop: str, *, lut: bool = True, intercept: float | None = None):  # type: ignore[no-untyped-def]
    ds = image_dataset(sop, "XA" if sop == XA else "RF", 1, 4, stored=10)
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelData = np.array(STORED, "<u2").tobytes()
    ds.WindowCenter, ds.WindowWidth = 512, 1024
    if lut:
        ds.ModalityLUTSequence = Sequence([_lut()])
    if intercept is not None:
        ds.RescaleSlope, ds.RescaleIntercept = 2, intercept
    path = tmp_path / "x.dcm"
    ds.save_as(path, enforce_file_format=True)
    return read_instance(path, "x.dcm")


def _stored_window() -> list[int]:
    c, w = 512, 1024
    return [round(float(np.clip((v - (c - 0.5)) / (w - 1) + 0.5, 0, 1)) * 255) for v in STORED]


@pytest.mark.parametrize("sop", [XA, XRF], ids=["XA", "XRF"])
def test_xa_window_applies_to_stored_values(tmp_path, sop: str) -> None:  # type: ignore[no-untyped-def]
    image = _image(tmp_path, sop)
    png, name = render(image, 0, parse_window("header"), "uint8")
    # applied first, the LUT took 512 to thousands: saturated white by the window (512, 1024)
    assert name == "header"
    assert png[0].tolist() == [0, 25, 128, 255] == _stored_window()
    npy, _ = render(image, 0, parse_window("none"), "float32")
    assert npy[0].tolist() == [float(v) for v in STORED]
    assert any("Modality LUT Sequence (0028,3000) not applied" in p for p in image.problems)
    assert all("; " not in p for p in image.problems)  # the summary splits problems on it


def test_xa_rescale_not_applied_and_said(tmp_path) -> None:  # type: ignore[no-untyped-def]
    image = _image(tmp_path, XA, lut=False, intercept=-100.0)
    npy, _ = render(image, 0, parse_window("none"), "float32")
    assert npy[0].tolist() == [float(v) for v in STORED]
    assert any("(x 2 + -100) not applied" in p for p in image.problems)


def test_other_images_keep_their_modality_lut(tmp_path) -> None:  # type: ignore[no-untyped-def]
    image = _image(tmp_path, CTImageStorage)
    npy, _ = render(image, 0, parse_window("none"), "float32")
    table = np.round(65535 * np.expm1(np.arange(1024) / 1023 * 4) / np.expm1(4))
    assert npy[0].tolist() == [float(table[v]) for v in STORED]
    assert not image.problems
