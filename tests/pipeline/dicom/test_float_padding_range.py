"""A float image's PNG range leaves its pixel padding out.

Without a window, a Float / Double Float Pixel Data image is written to PNG over its own
smallest to largest finite value. Padding (FloatPixelPaddingValue -1000,
DoubleFloatPixelPaddingValue -1e30: pixels holding no data) took part in that range, so the
data 0..10 came out as grey levels 252..255 of 255, or all 255 beside -1e30, unsaid. The range
is now that of the data; the padding, below it, is written as 0 (the padding cell says so).
Expected values by hand: (v - 0) / 10 scaled to 0..255 / 0..65535, rounded.
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
VALUES = [[-1.0, 0.0, 2.5], [5.0, 10.0, -1.0]]  # -1: where the padding goes


def _float_image(bits: int, padding: float) -> object:
    ds = image_dataset(MR, "MR", 2, 3, bits=bits)
    del ds.BitsStored, ds.HighBit, ds.PixelRepresentation
    pixels = np.where(np.array(VALUES) < 0, padding, VALUES)
    if bits == 32:
        ds.FloatPixelPaddingValue, ds.FloatPixelData = padding, pixels.astype("<f4").tobytes()
    else:
        ds.DoubleFloatPixelPaddingValue = padding
        ds.DoubleFloatPixelData = pixels.astype("<f8").tobytes()
    return ds


@pytest.mark.parametrize(("bits", "padding"), [(32, -1000.0), (64, -1e30)], ids=["float", "double"])
@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("png", [[0, 0, 64], [128, 255, 0]]), ("png16", [[0, 0, 16384], [32768, 65535, 0]])],
)
def test_padding_left_out_of_the_png_range(
    tmp_path: Path, bits: int, padding: float, fmt: str, expected: list[list[int]]
) -> None:
    src = write_folder(tmp_path / "src", f=_float_image(bits, padding))
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format=fmt), progress=False)
    assert result.failures == []
    (row,) = read_manifest(tmp_path / "out" / "manifest.csv")
    assert np.asarray(Image.open(tmp_path / "out" / row["output"])).tolist() == expected
    # the data's minimum (0) is written 0 too: the cell says the value is no exact mask
    assert row["padding"] == (
        "2 of 6 pixels are pixel padding (no data): written as 0, the value of 1 data pixel "
        "too, so it is no exact mask of the padding"
    )
