"""1-bit pixels with PixelRepresentation 1 are read as 0 and 1, and the header is noted.

A bit has no sign: pydicom reads such pixels as 0/1. radpipe sign-extended them, so a set
bit was written as -1 in NPY outputs and, in PNG outputs (the stored range -1..0 spread over
0..255), the set pixels came out black and the others white, all unsaid. Expected values:
the bits the test packs, by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

SC = "1.2.840.10008.5.1.4.1.1.7"
# 3 x 3 pixels, bit k of the stream is pixel k (PS3.5 8.1.1: least significant bit first)
BITS = [[0, 1, 0], [1, 0, 1], [0, 1, 1]]


def _convert(tmp_path: Path, fmt: str) -> tuple[np.ndarray, str]:
    ds = image_dataset(SC, "OT", 3, 3, bits=1, signed=True)
    ds.PixelData = bytes([0b10101010, 0b00000001])
    src = write_folder(tmp_path / "src", x=ds)
    out = tmp_path / fmt
    result = convert_folder(src, out, ConvertOptions(format=fmt), progress=False)
    assert result.failures == []
    (row,) = read_manifest(out / "manifest.csv")
    path = out / row["output"]
    array = np.load(path) if fmt == "npy" else np.asarray(Image.open(path))
    return array, row["problems"]


@pytest.mark.parametrize(("fmt", "scale"), [("npy", 1), ("png", 255)])
def test_signed_one_bit_pixels_read_as_zero_and_one(tmp_path: Path, fmt: str, scale: int) -> None:
    array, problems = _convert(tmp_path, fmt)
    assert array.tolist() == [[v * scale for v in row] for row in BITS]
    assert "PixelRepresentation (0028,0103) is 1 (signed), but 1-bit pixels" in problems
    assert "read as 0 (unsigned)" in problems
