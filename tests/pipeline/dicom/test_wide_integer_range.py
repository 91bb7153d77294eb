"""PNG without a window: integers of more than 16 bits span their own values, not BitsStored's.

The PNG range without a window is the full range BitsStored allows, which is lossless for
16-bit data in png16. For BitsStored 32 it is 0..4294967295 (or +-2147483648), so an image
of values 0..1000 (an RT Dose, a 32-bit MR) was written all 0 (or all 128 signed): a black
or grey PNG, unsaid. It now spans the file's own smallest to largest value, as float pixel
data do, pixel padding left out. Expected values by hand: (v - 0) / 1000 of 255 / 65535,
rounded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

MR = "1.2.840.10008.5.1.4.1.1.4"
STORED = [[0, 10, 100], [500, 1000, 7]]
EXPECTED = {
    "png": [[0, 3, 26], [128, 255, 2]],
    "png16": [[0, 655, 6554], [32768, 65535, 459]],
}


def _image(signed: bool, padding: bool) -> object:
    ds = image_dataset(MR, "MR", 2, 3, bits=32, signed=signed)
    values = np.array(STORED, "<i4" if signed else "<u4")
    if padding:  # two pixels of no data far below the image (SS Pixel Padding Value)
        ds.PixelPaddingValue = -2000
        ds["PixelPaddingValue"].VR = "SS"
        values.ravel()[[1, 5]] = -2000
    ds.PixelData = values.tobytes()
    return ds


@pytest.mark.parametrize("fmt", ["png", "png16"])
@pytest.mark.parametrize(
    ("signed", "padding"), [(False, False), (True, False), (True, True)],
    ids=["unsigned", "signed", "signed-padding"],
)  # fmt: skip
def test_32_bit_png_spans_the_values(tmp_path: Path, fmt: str, signed: bool, padding: bool) -> None:
    src = write_folder(tmp_path / "src", f=_image(signed, padding))
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format=fmt), progress=False)
    assert result.failures == []
    (row,) = read_manifest(tmp_path / "out" / "manifest.csv")
    written = np.asarray(Image.open(tmp_path / "out" / row["output"])).tolist()
    expected = [list(r) for r in EXPECTED[fmt]]
    if padding:  # the padding, below the range, is written as its end
        expected[0][1] = expected[1][2] = 0
    assert written == expected
