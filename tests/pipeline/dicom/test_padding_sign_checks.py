"""Declared pixel padding takes no part in the checks that judge the stored values' sign.

A signed CT whose padding is -2000 stored, beside a SmallestImagePixelValue of 0 (the data's
smallest), was noted 'the values look unsigned ... set PixelRepresentation to 0', and an
unsigned CT padded with 65535 'the values look signed ... the largest gives 64511 HU': both
from the padding alone, advice that would corrupt the data if followed. The checks now judge
the pixels that are not padding; a real sign fault beside padding is still said. Expected
values by hand: stored - 1024.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

CT = "1.2.840.10008.5.1.4.1.1.2"
LOOKS_UNSIGNED = "PixelRepresentation (0028,0103) is 1 (signed) but the values look unsigned"
LOOKS_SIGNED = "PixelRepresentation (0028,0103) is 0 (unsigned) but the values look signed"


def _ct(stored: list[int], signed: bool, padding: int, **extra: int) -> object:
    ds = image_dataset(CT, "CT", 2, 3, signed=signed)
    ds.RescaleSlope, ds.RescaleIntercept, ds.PixelPaddingValue = 1, -1024, padding
    ds["PixelPaddingValue"].VR = "SS" if signed else "US"
    for key, value in extra.items():
        setattr(ds, key, value)
    ds.PixelData = np.array(stored, "<i2" if signed else "<u2").tobytes()
    return ds


def _convert(tmp_path: Path, ds: object) -> tuple[list[float], str]:
    src = write_folder(tmp_path / "src", f=ds)
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    assert result.failures == []
    (row,) = read_manifest(tmp_path / "out" / "manifest.csv")
    return np.load(tmp_path / "out" / row["output"]).ravel().tolist(), row["problems"]


@pytest.mark.parametrize(
    ("stored", "signed", "padding", "extra"),
    [
        ([-2000, 0, 1000, 1024, 2000, -2000], True, -2000, {"SmallestImagePixelValue": 0}),
        ([65535, 0, 1000, 1024, 2000, 65535], False, 65535, {}),
    ],
    ids=["signed-padding-below-smallest", "unsigned-padding-65535"],
)
def test_padding_alone_is_no_sign_fault(
    tmp_path: Path, stored: list[int], signed: bool, padding: int, extra: dict[str, int]
) -> None:
    values, problems = _convert(tmp_path, _ct(stored, signed, padding, **extra))
    assert values == [v - 1024 for v in stored]
    assert LOOKS_UNSIGNED not in problems and LOOKS_SIGNED not in problems


def test_a_sign_fault_beside_padding_is_still_said(tmp_path: Path) -> None:
    # -1000 HU air written as signed 64536 in unsigned words, padding 65535 at the corners
    wrapped = [65535, 64536, 64536, 64536, 1040, 65535]
    _, problems = _convert(tmp_path / "a", _ct(wrapped, False, 65535))
    assert LOOKS_SIGNED in problems
    # unsigned 40000 read as signed -25536 below the declared smallest 0, padding -2000
    unsigned = [-2000, -25536, -25536, 100, 200, -2000]
    _, problems = _convert(tmp_path / "b", _ct(unsigned, True, -2000, SmallestImagePixelValue=0))
    assert LOOKS_UNSIGNED in problems
