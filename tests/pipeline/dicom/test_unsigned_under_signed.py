"""Unsigned values stored under PixelRepresentation 1: 40000 reads -25536 (pydicom reads as
the header says, as radpipe does), and the image came out hugely negative without a word
although its SmallestImagePixelValue said no value lies below 0. Expected values by hand:
the stored words 40000, 100, 65535, 32768 read as int16 are -25536, 100, -1, -32768."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset, write_folder

MR = "1.2.840.10008.5.1.4.1.1.4"
WORDS = [40000, 100, 65535, 32768]


@pytest.mark.parametrize(
    ("smallest", "largest", "said"),
    [(0, None, True), (-32768, None, False), (None, None, False),
     (0, 2908, False)],  # 0 and 2908: a stale range that fits neither reading
    ids=["declared-0", "declared-signed-min", "undeclared", "stale"],
)  # fmt: skip
def test_values_below_the_declared_smallest_are_said(
    tmp_path: Path, smallest: int | None, largest: int | None, said: bool
) -> None:
    ds = image_dataset(MR, "MR", 2, 2, signed=True)
    ds.PixelData = np.array(WORDS, "<u2").tobytes()
    if smallest is not None:
        ds.SmallestImagePixelValue = smallest
    if largest is not None:
        ds.LargestImagePixelValue = largest
    src = write_folder(tmp_path / "src", mr=ds)
    image = read_instance(src / "mr.dcm", "mr.dcm")
    as_pydicom = pydicom.dcmread(src / "mr.dcm").pixel_array
    assert image.stored.ravel().tolist() == as_pydicom.ravel().tolist() == [-25536, 100, -1,
                                                                            -32768]  # fmt: skip
    note = (
        "PixelRepresentation (0028,0103) is 1 (signed) but the values look unsigned: read as "
        "signed they go down to -32768, below the SmallestImagePixelValue (0028,0106) 0 the "
        "header declares, while read as unsigned (16 bits) they would span 100 to 65535."
    )
    assert sum(note in p for p in image.problems) == int(said)
