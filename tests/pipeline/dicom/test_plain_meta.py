"""File Meta (group 0002) the plain reader must leave to pydicom, byte by byte.

Each file is a clean CT slice with its File Meta patched; the plain reading must step aside
(``read_plain`` gives ``None``) and inspect's and convert's results with the plain reader on
and off must be equal.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from pydicom.uid import ExplicitVRLittleEndian

from pipeline.dicom import plain
from tests.pipeline.dicom.test_plain import _ct, _save
from tests.pipeline.dicom.test_plain_crafted import _same_both_ways

_VERSION_NAME = b"\x02\x00\x13\x00"  # ImplementationVersionName (0002,0013)


def _patched(path: Path, name: str) -> None:
    data = bytearray(path.read_bytes())
    end = 144 + struct.unpack_from("<I", data, 140)[0]
    at = data.index(_VERSION_NAME, 132)
    if name == "a VR that is none":
        data[at + 4 : at + 6] = b"ZZ"
    elif name == "undefined length":  # the OB version: (tag, VR, 0, length)
        version = data.index(b"\x02\x00\x01\x00OB", 132)
        data[version + 8 : version + 12] = b"\xff\xff\xff\xff"
    elif name == "group length past the group":  # the data set's first element counted in
        first = struct.unpack_from("<H", data, end + 6)[0] + 8
        struct.pack_into("<I", data, 140, end - 144 + first)
    elif name == "group length inside an element":
        struct.pack_into("<I", data, 140, end - 144 - 3)
    elif name == "cut inside the group":
        del data[at + 4 :]
    elif name == "invalid UID":  # TransferSyntaxUID with a leading zero in a component
        syntax = data.index(b"1.2.840.10008.1.2.1\0", 132)
        data[syntax : syntax + 20] = b"1.2.840.10008.01.2.1"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "name",
    [
        "a VR that is none",
        "undefined length",
        "group length past the group",
        "group length inside an element",
        "cut inside the group",
        "invalid UID",
    ],
)
def test_odd_file_meta_goes_to_pydicom(tmp_path: Path, name: str) -> None:
    path = _save(_ct(), tmp_path / "meta.dcm", ExplicitVRLittleEndian)
    assert plain.read_plain(path) is not None  # clean before the patch
    _patched(path, name)
    assert plain.read_plain(path) is None
    assert plain.read_plain(path, pixels=True) is None
    _same_both_ways(path)


def test_clean_file_meta_is_read_as_written(tmp_path: Path) -> None:
    path = _save(_ct(), tmp_path / "clean.dcm", ExplicitVRLittleEndian)
    ds = plain.read_plain(path)
    assert ds is not None
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert ds.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"  # CT Image
