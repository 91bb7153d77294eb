"""Pixel data holding whole frames the header does not count (no NumberOfFrames).

Read as one frame, as pydicom and dcmtk read it; the excess note said only that extra bytes
were ignored, not that they were exactly the frames NumberOfFrames (0028,0008) would have
counted. Expected: the first frame's values as built, the count worked out by hand
(24 bytes = 3 frames of 1 x 2 x 16 bits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset, write_folder

US = "1.2.840.10008.5.1.4.1.1.3.1"


@pytest.mark.parametrize(
    ("values", "frames", "hint"),
    [([1, 2, 3, 4, 5, 6], None, "enough for exactly 3 frames of this size: NumberOfFrames "
      "(0028,0008) is absent, so only the first is read"),
     ([1, 2, 3, 4, 5, 6, 7, 8], 3, ""),  # counted frames: the excess is no frame of theirs
     ([1, 2, 3], None, "")],  # not whole frames
    ids=["whole-frames", "frames-counted", "partial"],
)  # fmt: skip
def test_excess_whole_frames_without_a_count_are_said(
    tmp_path: Path, values: list[int], frames: int | None, hint: str
) -> None:
    ds = image_dataset(US, "US", 1, 2, bits=16)
    if frames:
        ds.NumberOfFrames = frames
    ds.PixelData = np.array(values, "<u2").tobytes()
    image = read_instance(write_folder(tmp_path, x=ds) / "x.dcm", "x.dcm")
    assert image.stored[0].ravel().tolist() == [1, 2]
    excess = [p for p in image.problems if "more than the header needs" in p]
    assert len(excess) == 1
    assert excess[0].endswith(hint) and (", enough for exactly" in excess[0]) == bool(hint)
