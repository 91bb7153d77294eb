"""Edges of :func:`pipeline.dicom.byte_order.byte_order_fix`, on heads built byte by byte.

A data set starts with a low group (0008; 0004 for a DICOMDIR): read in the other byte order
it is ``0x0800`` or ``0x0400``, a group whose low byte is 0. Groups 0000 to 0002 are the
command and File Meta groups, which no data set starts with: never taken as swapped.
"""

from __future__ import annotations

import pytest

from pipeline.dicom.byte_order import byte_order_fix

LE, BE, JPEG = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.4.50"


def _head(syntax: str, first: bytes, magic: bytes = b"DICM") -> bytes:
    uid = syntax.encode() + b"\x00" * (len(syntax) % 2)
    meta = b"\x02\x00\x10\x00UI" + len(uid).to_bytes(2, "little") + uid
    return bytes(128) + magic + meta + first + b"\x05\x00CS"


@pytest.mark.parametrize("first", [b"\x00\x03", b"\x00\x04", b"\x00\x08", b"\x00\xff"])
def test_low_groups_in_big_endian_order_under_a_little_endian_syntax(first: bytes) -> None:
    found = byte_order_fix(_head(LE, first))
    assert found is not None and found[0] is False  # read as big endian
    group = int.from_bytes(first, "big")
    assert f"its first group, {group:04X}, reads {group << 8:04X} the other way" in found[1]


@pytest.mark.parametrize("first", [b"\x00\x02", b"\x01\x08", b"\x08\x00"])
def test_other_first_groups_are_no_byte_order_fault(first: bytes) -> None:
    """0002 swapped is the File Meta group; 0801 (bytes 01 08) has both bytes set, so it is no
    low group swapped; 0008 in its own order agrees."""
    assert byte_order_fix(_head(LE, first)) is None


def test_a_big_endian_syntax_over_a_little_endian_group() -> None:
    found = byte_order_fix(_head(BE, b"\x08\x00"))
    assert found is not None and found[0] is True


def test_only_the_three_native_syntaxes_are_checked() -> None:
    """A JPEG syntax's data set is little endian by definition; a big-endian first group under
    it is another fault, not one this reads around."""
    assert byte_order_fix(_head(JPEG, b"\x00\x08")) is None


def test_a_head_without_dicm_is_not_read() -> None:
    assert byte_order_fix(_head(LE, b"\x00\x08", magic=b"DICX")) is None
    assert byte_order_fix(_head(LE, b"\x00\x08")) is not None


def test_a_head_cut_inside_a_long_meta_element_cannot_tell() -> None:
    """(0002,0001) OB has a 4-byte length after 2 reserved bytes: a head ending before it is
    whole says nothing (no struct.error)."""
    version = b"\x02\x00\x01\x00OB\x00\x00\x02\x00\x00\x00"
    assert byte_order_fix(bytes(128) + b"DICM" + version[:10]) is None
    whole = _head(LE, b"\x00\x08")
    assert byte_order_fix(whole[:132] + version + b"\x00\x01" + whole[132:]) is not None
