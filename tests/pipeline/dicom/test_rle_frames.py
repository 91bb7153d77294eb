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


@pytest.mark.parametrize(
    ("name", "changed", "said"),
    [("MR_small_RLE.dcm", {"Columns": 3}, "RLE frame 0's first segment decodes to 4,097 bytes, "
      "but Rows x Columns (0028,0010)/(0028,0011) say 64x3 = 192 (PS3.5 G.3): the header does "
      "not describe the stream."),
     ("MR_small_jpeg_ls_lossless.dcm", {"BitsAllocated": 8, "BitsStored": 8, "HighBit": 7},
      "frame 0: the codestream's samples are 16-bit (its own header says so) but "
      "BitsAllocated (0028,0100) is 8: the values would be cut to 8 bits."),
     ("MR_small_jpeg_ls_lossless.dcm", {"Columns": 3}, "frame 0: the codestream is 64x64 "
      "(columns x rows) but Columns x Rows (0028,0011)/(0028,0010) say 3x64.")],
    ids=["rle-columns", "jpeg-ls-bits", "jpeg-ls-columns"],
)  # fmt: skip
def test_inspect_refuses_what_convert_refuses_with_the_pixels_left_unread(
    tmp_path: Path, name: str, changed: dict[str, int], said: str
) -> None:
    """The pixel data (over 4 KiB: 64x64 16-bit MR, 4,097 bytes per RLE segment counted by
    hand from pydicom's file) is left in the file by inspect's header read; its frame 0 is
    read from the file and checked as convert checks it."""
    import pydicom
    from pydicom.data import get_testdata_file

    from pipeline.dicom.index import index_folder

    ds = pydicom.dcmread(get_testdata_file(name))
    for key, value in changed.items():
        setattr(ds, key, value)
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "x.dcm")
    _, errors, _ = convert_nifti(tmp_path / "src", tmp_path / "out", format="npy",
                                 per="instance")  # fmt: skip
    assert errors == {"x.dcm": said}
    assert [p.reason for p in index_folder(tmp_path / "src").all_problems()] == [said]
