"""Numbers written with another delimiter than ``\\`` are said wherever they are read.

pydicom keeps ``0.7,0.7`` (pydicom #173) as one string; radpipe reads the evident numbers and
notes it for ImagePositionPatient and PixelSpacing. ImageOrientationPatient (``1,0,0,0,0,-1``,
``1 0 0 0 1 0``, or with a decimal comma) and WindowCenter/WindowWidth (``0;80``) were read the
same way without a word, so ``--strict`` passed such files, and the window cell said ``header``
where two windows were held. A value written with backslashes but handed over as text (a UN
element's bytes) was said to use "a non-standard delimiter" though it did not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.uid import CTImageStorage

from pipeline.dicom.header_checks import check_image_header
from pipeline.dicom.values import numbers
from tests.pipeline.dicom.builders import convert_one, image_dataset, write_folder


def _ct(**written: str) -> object:
    """A 1 x 4 CT (HU 0, 1, 2, 3) whose DS elements ``written`` hold these exact texts."""
    ds = image_dataset(CTImageStorage, "CT", 1, 4, signed=True)
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]
    ds.PixelData = np.array([0, 1, 2, 3], "<i2").tobytes()
    for keyword, text in written.items():
        element = DataElement(tag_for_keyword(keyword), "LO", text)
        element.VR = "DS"  # the text as it is, not checked as DS
        ds[element.tag] = element
    return ds


def test_an_orientation_with_commas_is_read_and_said(tmp_path: Path) -> None:
    ds = _ct(ImageOrientationPatient="1,0,0,0,0,-1")  # coronal
    said = ("ImageOrientationPatient (0020,0037) uses a non-standard delimiter, read as "
            "(1.0, 0.0, 0.0, 0.0, 0.0, -1.0)")  # fmt: skip
    assert check_image_header(ds) == [said]  # inspect's check
    src = write_folder(tmp_path / "src", ct=ds)
    row, values = convert_one(src, tmp_path / "out", "--format", "npy")
    assert said in row["problems"]
    np.testing.assert_array_equal(values.ravel(), [0, 1, 2, 3])


def test_an_orientation_with_spaces_or_a_decimal_comma_is_said() -> None:
    spaces = check_image_header(_ct(ImageOrientationPatient="1 0 0 0 1 0"))
    assert spaces == ["ImageOrientationPatient (0020,0037) uses a non-standard delimiter, "
                      "read as (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)"]  # fmt: skip
    comma = check_image_header(_ct(ImageOrientationPatient="0,6\\0,8\\0\\0\\0\\-1"))
    assert len(comma) == 1
    assert comma[0].startswith("ImageOrientationPatient (0020,0037) is written with a decimal")
    assert comma[0].endswith("read as 0.6\\0.8\\0\\0\\0\\-1")


def test_windows_with_semicolons_are_said_and_counted(tmp_path: Path) -> None:
    ds = _ct(WindowCenter="0;80", WindowWidth="4;800")
    src = write_folder(tmp_path / "src", ct=ds)
    row, grey = convert_one(src, tmp_path / "out", "--format", "png")
    # the first window, LINEAR (PS3.3 C.11.2.1.2): (x - (c - 0.5)) / (w - 1) + 0.5, clipped
    by_hand = np.clip((np.array([0, 1, 2, 3]) + 0.5) / 3 + 0.5, 0, 1)  # 0.667, 1, 1, 1
    np.testing.assert_array_equal(grey.ravel(), np.rint(by_hand * 255))
    assert row["window"] == "header (WindowCenter/WindowWidth 1 of 2)"
    said = "WindowCenter (0028,1050) uses a non-standard delimiter, read as (0.0, 80.0)"
    assert said in row["problems"]
    assert "WindowWidth (0028,1051) uses a non-standard delimiter" in row["problems"]


def test_backslashes_in_text_are_no_other_delimiter() -> None:
    notes: list[str] = []
    assert numbers("0.7\\0.7", 2, "PixelSpacing", notes) == (0.7, 0.7)
    assert numbers(b"0\\0\\5 ", 3, "ImagePositionPatient", notes) == (0.0, 0.0, 5.0)
    assert notes == []
    assert numbers("0.7\\0.7 0.7", None, "PixelSpacing", notes) == (0.7, 0.7, 0.7)
    assert len(notes) == 1  # one of its delimiters is a space
