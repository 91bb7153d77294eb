"""One file cut short inside its pixel data gets one wording, whichever reading meets it.

A header-only reading (the index) knows only the element's length and the file's end and
said `truncated file: PixelData (7FE0,0010) holds 88 of its 128 bytes`; a full reading
said `PixelData (7FE0,0010) holds 88 bytes but Rows x Columns x ... needs 128 (truncated
file or wrong header)` when the image no longer fitted, and the first wording when it did
(a file with excess padding cut less deep). The element's own length proves the file cut
short, not the header wrong: every reading now says the first. 8 x 8 x 16 bits = 128 bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import CTImageStorage

from pipeline.dicom import index_folder
from pipeline.dicom.read import read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset


@pytest.mark.parametrize(("extra", "cut", "held", "length"), [(0, 40, 88, 128), (8, 10, 126, 136)])
def test_pixel_data_cut_short_is_one_truncated_file(
    tmp_path: Path, extra: int, cut: int, held: int, length: int
) -> None:
    ds = image_dataset(CTImageStorage, "CT", 8, 8)
    ds.PixelData = np.arange(64, dtype="<u2").tobytes() + bytes(extra)
    path = tmp_path / "scan" / "a.dcm"
    path.parent.mkdir()
    ds.save_as(path, enforce_file_format=True)
    path.write_bytes(path.read_bytes()[:-cut])
    want = f"truncated file: PixelData (7FE0,0010) holds {held} of its {length} bytes"
    with pytest.raises(DicomError) as caught:
        read_instance(path, "a.dcm")
    assert caught.value.reason == want
    assert [p.reason for p in index_folder(path.parent).problems] == [want]
