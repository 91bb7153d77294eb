"""The private pydicom reader of File Meta Information that radpipe relies on.

``pipeline.dicom.byte_order.read_in_byte_order`` and ``pipeline.dicom.files._read_deflated``
call ``pydicom.filereader._read_file_meta_info(fh)`` (pyproject allows any pydicom >= 3.0):
the public ``read_file_meta_info`` takes a path and cannot leave the stream at the data set.
This fails first, naming the function, if a pydicom release removes it or changes what it
does: read group 2 from the stream and stop where the data set begins, also when
FileMetaInformationGroupLength is wrong. Expected offsets: 128 + 4 + the group's bytes,
counted by hand from the elements written.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pydicom.filereader as filereader
import pytest

from tests.pipeline.dicom.builders import image_dataset, write_folder

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.mark.parametrize("wrong_length", [False, True], ids=["group-length", "wrong-length"])
def test_private_meta_reader_stops_where_the_data_set_begins(
    tmp_path: Path, wrong_length: bool
) -> None:
    assert hasattr(filereader, "_read_file_meta_info"), "pydicom removed _read_file_meta_info"
    ds = image_dataset(CT, "CT", 1, 1)
    ds.PixelData = bytes(2)
    path = write_folder(tmp_path, x=ds) / "x.dcm"
    raw = bytearray(path.read_bytes())
    (length,) = struct.unpack_from("<I", raw, 140)  # (0002,0000) UL, value at 132 + 8
    begins = 132 + 12 + length
    assert struct.unpack_from("<H", raw, begins)[0] != 0x0002  # the first data set element
    if wrong_length:
        struct.pack_into("<I", raw, 140, length + 40)
        path.write_bytes(bytes(raw))
    with path.open("rb") as fh:
        filereader.read_preamble(fh, False)
        meta = filereader._read_file_meta_info(fh)
        assert fh.tell() == begins
    assert str(meta.TransferSyntaxUID) == str(ds.file_meta.TransferSyntaxUID)
