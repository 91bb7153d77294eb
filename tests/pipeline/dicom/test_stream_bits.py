"""A JPEG-family stream whose sample precision BitsAllocated does not hold (found by fuzzing).

pydicom's 16-bit JPEG-LS / JPEG 2000 files re-labelled BitsAllocated 8 decoded into 8-bit
cells (2145 became 97 or 0), written with exit 0 and no word; an 8-bit colour JPEG labelled
BitsAllocated 16 failed with numpy's words. Both are refused naming the stream's precision
(its SOF / SIZ marker: 16 and 8 for these files) and BitsAllocated.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.pipeline.dicom.geometry_cases import convert_nifti


@pytest.mark.parametrize(
    ("name", "bits", "said"),
    [("MR_small_jpeg_ls_lossless.dcm", 8, "frame 0: the codestream's samples are 16-bit (its "
      "own header says so) but BitsAllocated (0028,0100) is 8: the values would be cut to 8 "
      "bits."),
     ("MR_small_jp2klossless.dcm", 8, "frame 0: the codestream's samples are 16-bit (its own "
      "header says so) but BitsAllocated (0028,0100) is 8: the values would be cut to 8 "
      "bits."),
     ("SC_rgb_jpeg_dcmtk.dcm", 16, "frame 0: the codestream's samples are 8-bit (its own "
      "header says so) but BitsAllocated (0028,0100) is 16: 8-bit JPEG colour samples fill "
      "8-bit cells (pydicom decodes them so).")],
    ids=["jpeg-ls", "j2k", "jpeg-colour"],
)  # fmt: skip
def test_a_stream_precision_bits_allocated_does_not_hold_is_refused(
    tmp_path: Path, name: str, bits: int, said: str
) -> None:
    ds = pydicom.dcmread(get_testdata_file(name))
    ds.BitsAllocated = bits
    ds.BitsStored, ds.HighBit = min(int(ds.BitsStored), bits), min(int(ds.BitsStored), bits) - 1
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "x.dcm")
    _, errors, code = convert_nifti(tmp_path / "src", tmp_path / "out", format="npy",
                                    per="instance")  # fmt: skip
    assert code == 1 and errors == {"x.dcm": said}
