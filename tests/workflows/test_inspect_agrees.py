"""``inspect`` says what ``convert`` notes, where the header alone tells it.

``convert`` noted a rescale applied to float pixel data, a RescaleSlope of 0 replaced by 1
and a HighBit other than BitsStored - 1 while decoding; ``inspect`` (headers only) said nothing
of them, so a folder it passed clean came out of ``convert`` with problems. Each case's note is
written out by hand from the values built; the test asserts both commands give the same set.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ParametricMapStorage

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import header_dataset, image_dataset, write_folder
from workflows.cli import main


def _float_map() -> Dataset:
    ds = header_dataset(ParametricMapStorage, "MR")
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 1, 2, 1
    ds.PhotometricInterpretation, ds.BitsAllocated = "MONOCHROME2", 32
    ds.FloatPixelData = np.array([1.5, -2.25], "<f4").tobytes()
    ds.RescaleSlope, ds.RescaleIntercept = 2, 1
    return ds


def _ct(**extra: object) -> Dataset:
    ds = image_dataset(CTImageStorage, "CT", 2, 2, signed=True)
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [1, 1], 1, -1024
    ds.PixelData = np.array([0, 1, 2, 3], "<i2").tobytes()
    for key, value in extra.items():
        setattr(ds, key, value)
    return ds


def _words(*words: int) -> bytes:
    return np.array(words, "<u2").tobytes()


CASES = {
    "float-rescale": (_float_map, "RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) "
                      "(x 2 + 1) applied to float pixel data, which the standard leaves "
                      "unrescaled (PS3.3 C.7.6.24: no Modality LUT module), as pydicom does"),
    "slope-0": (lambda: _ct(RescaleSlope=0), "RescaleSlope ignored: (0028,1053) is 0, which "
                "would make every pixel the intercept, so slope 1 is used"),
    "high-bit-11": (lambda: _ct(HighBit=11), "HighBit (0028,0102) 11 is not BitsStored - 1 "
                    "(15): values read from the low 16 bits"),
    # above BitsStored - 1 inside the cell: the values decide, read by inspect too. Words 0,
    # 4096, 8192, 16000 are 0, 256, 512, 1000 in bits 4-15 (low 4 bits clear, bits past 11
    # set); the words 0-3 have no bit past 11 set, so they are not shifted
    "high-bit-15-shifted": (lambda: _ct(BitsStored=12, HighBit=15, PixelRepresentation=0,
                                        PixelData=_words(0, 4096, 8192, 16000)),
                            "HighBit (0028,0102) 15 is not BitsStored - 1 (11): values read "
                            "from bits 4-15, shifted down by 4"),
    "high-bit-15-low": (lambda: _ct(BitsStored=12, HighBit=15),
                        "HighBit (0028,0102) 15 is not BitsStored - 1 (11): values read from "
                        "the low 12 bits"),
    "photometric-lower-case": (lambda: _ct(PhotometricInterpretation="monochrome2"),
                               "PhotometricInterpretation (0028,0004) is written 'monochrome2', "
                               "not as the defined term (upper case, PS3.5 6.2): read as "
                               "MONOCHROME2"),
    "window-0": (lambda: _ct(WindowCenter=40, WindowWidth=0),
                 "WindowWidth 0 is not positive: the header's window is ignored"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_inspect_and_convert_give_the_same_notes(tmp_path: Path, case: str) -> None:
    build, note = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom checks the values it writes
        src = write_folder(tmp_path / "src", x=build())
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", "npy", "--quiet"]) == 0
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    converted = set(row["problems"].split("; "))
    inspected = {p.reason.removeprefix("note: ") for p in index_folder(src).all_problems()}
    assert note in converted
    assert inspected == converted
