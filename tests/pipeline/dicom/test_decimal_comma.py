"""Decimal strings written with a decimal comma by software in a comma locale.

A comma is no DS character. dcmjs #287: PixelSpacing ``1,43\\1,43`` came back as 143 x 143;
fo-dicom PR #1915 reads such a comma as the decimal mark. Between numbers written with a
point it stays a delimiter (``0.7,0.7``, pydicom #173, reproduction 05). Expected values are
worked out by hand from the values written.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.uid import CTImageStorage

from pipeline.dicom.values import first_number, numbers
from tests.pipeline.dicom.builders import image_dataset

ROOT = Path(__file__).parents[3]


def _ct_with_commas(path: Path) -> None:
    """Stored 0, 100, 1000, 2000; written with points, then the points made commas in the
    bytes (the VR and lengths stay valid): slope 0,5, intercept -1024,5, PixelSpacing
    0,7\\0,7, window 40,5 / 400,5."""
    ds = image_dataset(CTImageStorage, "CT", 1, 4)
    ds.PixelData = np.array([0, 100, 1000, 2000], "<u2").tobytes()
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = ["0.7", "0.7"], "0.5", "-1024.5"
    ds.WindowCenter, ds.WindowWidth = "40.5", "400.5"
    ds.save_as(path, enforce_file_format=True)
    data = path.read_bytes()
    for text in (b"0.7\\0.7", b"-1024.5", b"400.5", b"40.5", b"0.5 "):  # longest first
        assert data.count(text) == 1
        data = data.replace(text, text.replace(b".", b","))
    path.write_bytes(data)


def _convert(src: Path, out: Path, fmt: str) -> dict[str, str]:
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--format", fmt]
    done = subprocess.run([*cmd, "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    (row,) = csv.DictReader((out / "manifest.csv").open())
    return row


def test_decimal_commas_are_read_as_the_writer_meant(tmp_path: Path) -> None:
    # PixelSpacing was refused ("is not numeric"), the slope read as 0 and ignored (slope 1),
    # the intercept as -1024, the window as (40, 400) without a word
    src = tmp_path / "src"
    src.mkdir()
    _ct_with_commas(src / "ct.dcm")
    row = _convert(src, tmp_path / "npy", "npy")
    values = np.load(tmp_path / "npy" / row["output"]).ravel().tolist()
    assert values == [-1024.5, -974.5, -524.5, -24.5]  # stored x 0.5 - 1024.5
    assert row["spacing"] == "0.7x0.7"
    for said in ("PixelSpacing (0028,0030) is written with a decimal comma",
                 "RescaleSlope (0028,1053) is written with a decimal comma ('0,5'), read as 0.5",
                 "RescaleIntercept (0028,1052) is written with a decimal comma"):  # fmt: skip
        assert said in row["problems"]
    png = _convert(src, tmp_path / "png", "png")
    # LINEAR, c = 40.5, w = 400.5: (x - 40) / 399.5 + 0.5 of -24.5 is 0.3386 -> 86; the
    # others are below c - w / 2 -> 0
    got = np.asarray(Image.open(tmp_path / "png" / png["output"])).ravel().tolist()
    assert got == [0, 0, 0, round((-24.5 - 40.0) / 399.5 * 255 + 127.5)]
    assert "WindowCenter (0028,1050) is written with a decimal comma ('40,5')" in png["problems"]


@pytest.mark.parametrize(
    "value, n, expected",
    [
        ("0.7,0.7", 2, (0.7, 0.7)),  # pydicom #173: a delimiter between decimals
        ("1,1", 2, (1.0, 1.0)),  # two numbers wanted: a delimiter
        (["1,43", "1,43"], 2, (1.43, 1.43)),  # dcmjs #287
        ("0,5\\-3,25\\10", 3, (0.5, -3.25, 10.0)),
    ],
)
def test_which_commas_are_decimal_marks(value: object, n: int, expected: tuple) -> None:
    assert numbers(value, n, "PixelSpacing") == pytest.approx(expected)


def test_a_single_value_with_a_comma_is_one_number() -> None:
    notes: list[str] = []
    assert first_number("1,5", "RescaleSlope", notes) == 1.5  # was 1 ("has 2 values")
    assert notes == [
        "RescaleSlope (0028,1053) is written with a decimal comma ('1,5'), read as 1.5"
    ]


def test_other_ds_readers_read_a_decimal_comma_alike() -> None:
    # a cine's FrameTime 33,3 ms (was no time step: "not a number"), an NM SpacingBetweenSlices
    # or a RepetitionTime 2,5 (was None), an EchoTime 12,5 told apart as the number 12.5
    from pydicom.dataset import Dataset

    from pipeline.dicom.cine import cine_intervals
    from pipeline.dicom.frames import _float
    from pipeline.dicom.header import _plain

    ds = Dataset()
    ds.add_new(0x00181063, "LO", "33,3")  # FrameTime as read (pydicom refuses to make a DS of it)
    assert cine_intervals(ds, 3) == [None, 33.3, 33.3]
    assert _float("2,5") == 2.5
    assert _plain("12,5") == 12.5 and _plain("ORIGINAL") == "ORIGINAL"
    # the stack keys of convert's frames alike (a TR "2000,5" as text failed float() there)
    from pipeline.dicom.frames import _plain as frame_value

    assert frame_value("12,5") == 12.5 and frame_value("ORIGINAL") == "ORIGINAL"
