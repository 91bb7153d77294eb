"""An RLE frame that the header does not describe is refused naming the header values (found
by fuzzing): pylibjpeg-rle kept the first Rows x Columns bytes of each segment, so a 4x4
image said to be 4x2 was written as 4x2 values of garbage with exit 0; a segment count that
BitsAllocated does not give failed with both plugins' words. Expected sizes by hand: a 4x4
16-bit grey frame has 2 segments (PS3.5 G.2) of 16 bytes each (G.3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import CTImageStorage, RLELossless

from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti

_VALUES = (np.arange(16) * 97 % 1000).astype("<u2").reshape(4, 4)


def _src(tmp_path: Path, **changed: int) -> Path:
    ds = image_dataset(CTImageStorage, "CT", 4, 4)
    ds.compress(RLELossless, _VALUES)
    for key, value in changed.items():
        setattr(ds, key, value)
    return write_folder(tmp_path / "src", x=ds)


@pytest.mark.parametrize(
    ("changed", "said"),
    [({"Columns": 2}, "RLE frame 0's first segment decodes to 16 bytes, but Rows x "
      "Columns (0028,0010)/(0028,0011) say 4x2 = 8 (PS3.5 G.3): the header does not describe "
      "the stream."),
     ({"Rows": 8}, "RLE frame 0's first segment decodes to 16 bytes, but Rows x Columns "
      "(0028,0010)/(0028,0011) say 8x4 = 32 (PS3.5 G.3): the header does not describe the "
      "stream."),
     ({"BitsAllocated": 32, "BitsStored": 32, "HighBit": 31},
      "RLE frame 0 holds 2 segments, but SamplesPerPixel (0028,0002) 1 x BitsAllocated "
      "(0028,0100) 32 need 4, one per byte of each sample (PS3.5 G.2): the header does not "
      "describe the stream.")],
    ids=["columns-too-few", "rows-too-many", "bits-allocated"],
)  # fmt: skip
def test_an_rle_frame_the_header_does_not_describe_is_refused(
    tmp_path: Path, changed: dict[str, int], said: str
) -> None:
    _, errors, code = convert_nifti(_src(tmp_path, **changed), tmp_path / "out", format="npy",
                                    per="instance")  # fmt: skip
    assert code == 1 and errors == {"x.dcm": said}


def test_a_described_rle_frame_is_read(tmp_path: Path) -> None:
    rows, errors, code = convert_nifti(_src(tmp_path), tmp_path / "out", format="npy",
                                       per="instance")  # fmt: skip
    assert code == 0 and not errors
    assert np.load(tmp_path / "out" / rows[0]["output"]).tolist() == _VALUES.tolist()
