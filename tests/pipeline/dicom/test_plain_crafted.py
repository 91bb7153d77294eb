"""Crafted byte-level files the plain reader must leave to pydicom (or read exactly as it does).

Each file is patched from a clean variant of :mod:`tests.pipeline.dicom.test_plain`; the plain
reading must step aside (``read_plain`` gives ``None``) and the results with the plain reader on
and off must be equal.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path, PosixPath

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.dicom import plain
from pipeline.dicom.header import read_header
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.test_plain import _both, _ct, _same_image, _save, _undefined_lengths

_SEQ_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
_ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)


def _item(length: int) -> bytes:
    return struct.pack("<HHI", 0xFFFE, 0xE000, length)


def _explicit(tag: int, vr: bytes, value: bytes) -> bytes:
    if vr in (b"SQ", b"UN", b"OB", b"UT"):
        return struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def _sequence(content: bytes, explicit: bool = True) -> bytes:
    """ProcedureCodeSequence (0008,1032) of undefined length holding ``content``."""
    if explicit:
        return struct.pack("<HH2sHI", 0x0008, 0x1032, b"SQ", 0, 0xFFFFFFFF) + content + _SEQ_END
    return struct.pack("<HHI", 0x0008, 0x1032, 0xFFFFFFFF) + content + _SEQ_END


def _insert(path: Path, before: bytes, blob: bytes) -> Path:
    """``blob`` inserted before the element whose tag bytes are ``before``."""
    data = path.read_bytes()
    at = data.index(before, 132)
    path.write_bytes(data[:at] + blob + data[at:])
    return path


def _code_value(value: bytes = b"T-D3000 ") -> bytes:
    return _explicit(0x00080100, b"SH", value)


_DESCRIPTION = b"\x08\x00\x3e\x10"  # SeriesDescription (0008,103E): after (0008,1032)


def _crafted(name: str, path: Path) -> Path:
    if name.startswith("pixel data as "):
        data = path.read_bytes()
        at = data.rindex(b"\xe0\x7f\x10\x00")
        vr = name[-2:].encode()
        length = struct.unpack_from("<I", data, at + 8)[0]
        if vr in (b"US", b"SS"):  # the short form: (tag, VR, 2-byte length)
            head = struct.pack("<HH2sH", 0x7FE0, 0x0010, vr, length)
            path.write_bytes(data[:at] + head + data[at + 12 :])
        else:
            path.write_bytes(data[: at + 4] + vr + data[at + 6 :])
        return path
    blobs = {
        # pydicom parses an undefined-length sequence, defined-length items included, as it
        # reads: an element running past its item is an error there
        "item element overruns its item": _sequence(
            _item(16) + struct.pack("<HH2sH", 0x0008, 0x0100, b"SH", 12) + b"T-D3000 "
        ),
        "character set inside an item": _sequence(
            _item(0xFFFFFFFF) + _explicit(0x00080005, b"CS", b"ISO_IR 999") + _ITEM_END
        ),
        "deep nesting": (_sequence(b"")[:12] + _item(0xFFFFFFFF)) * 1100
        + (_ITEM_END + _SEQ_END) * 1100,
        # a known non-SQ tag of undefined length is read by pydicom up to the first bytes of
        # a sequence delimiter, wherever they are
        "undefined-length text with delimiter bytes": struct.pack(
            "<HHI", 0x0020, 0x4000, 0xFFFFFFFF
        )
        + _item(8)
        + _SEQ_END
        + _SEQ_END,
    }
    before = b"\x28\x00\x02\x00" if name.startswith("undefined-length text") else _DESCRIPTION
    return _insert(path, before, blobs[name])


CRAFTED = {
    "pixel data as UT": ExplicitVRLittleEndian,
    "pixel data as SQ": ExplicitVRLittleEndian,
    "pixel data as US": ExplicitVRLittleEndian,
    "item element overruns its item": ExplicitVRLittleEndian,
    "character set inside an item": ExplicitVRLittleEndian,
    "deep nesting": ExplicitVRLittleEndian,
    "undefined-length text with delimiter bytes": ImplicitVRLittleEndian,
}


def _same_both_ways(path: Path) -> None:
    fast, slow = _both(read_header, path, path.parent)
    assert fast == slow
    fast_image, slow_image = _both(read_instance, path, path.name)
    _same_image(fast_image, slow_image)


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_file_goes_to_pydicom(tmp_path: Path, name: str) -> None:
    path = _save(_ct(), tmp_path / "crafted.dcm", CRAFTED[name])
    _crafted(name, path)
    assert plain.read_plain(path) is None
    assert plain.read_plain(path, pixels=True) is None
    _same_both_ways(path)


def test_implicit_file_whose_first_length_reads_as_letters_goes_to_pydicom(
    tmp_path: Path,
) -> None:
    """pydicom takes two letters A-Z after the first tag for an explicit VR, and warns."""
    path = _save(_ct(), tmp_path / "implicit.dcm", ImplicitVRLittleEndian)
    data = path.read_bytes()
    end = 144 + struct.unpack_from("<I", data, 140)[0]
    private = struct.pack("<HHI", 0x0007, 0x1000, 0x4142) + b"\0" * 0x4142  # length "BA"
    path.write_bytes(data[:end] + private + data[end:])
    assert plain.read_plain(path) is None
    _same_both_ways(path)


def test_items_are_read_as_pydicom_reads_them(tmp_path: Path) -> None:
    """Undefined-length items inside a defined-length sequence, and the reverse, stay plain."""
    path = _save(_ct(), tmp_path / "items.dcm")
    inner = _item(0xFFFFFFFF) + _code_value() + _ITEM_END
    defined = struct.pack("<HH2sHI", 0x0008, 0x1032, b"SQ", 0, len(inner)) + inner
    _insert(path, _DESCRIPTION, defined)
    assert plain.read_plain(path) is not None
    _same_both_ways(path)
    path = _save(_ct(), tmp_path / "items2.dcm")
    _insert(path, _DESCRIPTION, _sequence(_item(len(_code_value())) + _code_value()))
    assert plain.read_plain(path) is not None
    _same_both_ways(path)


def test_sequences_with_charset_and_enhanced_groups_match(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = _ct(NumberOfFrames="2", PixelData=bytes(range(120)), ImagePositionPatient=None)
    frames = []
    for k in range(2):
        position = Dataset()
        position.ImagePositionPatient = [0, 0, k * 2.5]
        frames.append(Dataset())
        frames[-1].PlanePositionSequence = Sequence([position])
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    path = _save(ds, tmp_path / "enhanced.dcm")
    _undefined_lengths(path)
    assert plain.read_plain(path) is not None
    _same_both_ways(path)


class _Shrunk(PosixPath):
    """A file whose size, as ``stat`` gives it, is larger than what can be read."""

    def stat(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = super().stat(*args, **kwargs)
        return type("Stat", (), {"st_size": found.st_size + 4096, "st_mode": found.st_mode})()


def test_a_file_shorter_than_its_stat_size_does_not_hang(tmp_path: Path) -> None:
    """The header runs past the end of what can be read (the file was cut after ``stat``)."""
    path = _Shrunk(_save(_ct(), tmp_path / "shrunk.dcm"))
    path.write_bytes(path.read_bytes()[:400])
    assert plain.read_plain(path) is None
    assert plain.read_plain(path, pixels=True) is None


def test_a_header_read_in_short_pieces_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header is read unbuffered (``os.read``), which may return fewer bytes than asked
    before the end of the file: reading on gives the same data set, and the end still ends."""
    path = _save(_ct(), tmp_path / "a.dcm")
    whole = plain.read_plain(path)
    real = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real(fd, min(n, 7)))
    pieces = plain.read_plain(path)
    assert whole is not None and pieces is not None
    assert pieces._raw == whole._raw and pieces.header_digest == whole.header_digest
    assert pieces.get("Rows") == whole.get("Rows") and pieces.file_size == path.stat().st_size
    path.write_bytes(path.read_bytes()[:400])  # cut inside the header: not plain, no hang
    assert plain.read_plain(path) is None
