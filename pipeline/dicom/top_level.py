"""The data set's top level walked up to the pixel data (PS3.5 7.1): :func:`walk`.

Each element of every file plain reading takes passes through one of the two loops here,
so they are written for the interpreter: a held element of the dictionary's VR (PS3.6) takes
one look-up and a slice; anything else (an element not held, a held one of another VR, a
grouping UID, which is checked, a sequence, the pixel data) takes the general path. An
element that runs past the bytes at hand raises :class:`~pipeline.dicom.elements.Short`
(from ``struct``, or before its value is looked at), so the caller reads more: a decision
that a file is not plain (:class:`~pipeline.dicom.elements.Odd`) rests on bytes read.
"""

from __future__ import annotations

import struct
from typing import Any

from pipeline.dicom import elements
from pipeline.dicom.elements import Odd, Short

_EXPLICIT, _IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
_PIXEL_DATA = 0x7FE00010
#: Float Pixel Data, Double Float Pixel Data, Pixel Data: the first one (7FE0,0008) and every
#: tag after it end the walk (a later tag means no pixel data follows: not plain).
_FIRST_PIXEL_TAG = 0x7FE00008
_UNDEFINED = 0xFFFFFFFF
_CHARSET = 0x00080005
_HEAD = struct.Struct("<HHI").unpack_from
_HEAD_VR = struct.Struct("<HH2sH").unpack_from
_LENGTH = struct.Struct("<I").unpack_from


def walk(buf: bytes, size: int) -> dict[str, Any]:
    """Parse File Meta and the data set's top level up to the pixel data element.

    ``{"syntax", "meta", "raw", "tags", "charset", "pixels"}``: the transfer syntax, the
    File Meta values by tag, the held elements' value bytes by tag, every top-level tag, the
    SpecificCharacterSet's bytes and the pixel element's ``(tag, value offset, length)``.
    """
    meta, pos = elements.file_meta(buf)
    syntax = meta.get(0x00020010, b"").rstrip(b"\0 ").decode("ascii", "replace")
    if syntax not in (_EXPLICIT, _IMPLICIT):
        raise Odd
    explicit = syntax == _EXPLICIT
    if pos + 6 <= len(buf) and elements.looks_explicit(buf[pos + 4 : pos + 6]) != explicit:
        raise Odd  # pydicom would warn that the data set uses the other VR encoding
    raw: dict[int, bytes] = {}
    others: list[int] = []  # the tags not held
    try:
        found = (_explicit if explicit else _implicit)(buf, pos, size, raw, others)
    except struct.error:  # a header past the bytes at hand
        raise Short from None
    tags = set(raw)
    tags.update(others)
    return dict(syntax=syntax, meta=meta, raw=raw, tags=tags, charset=found[0],
                pixels=found[1])  # fmt: skip


def _explicit(
    buf: bytes, pos: int, size: int, raw: dict[int, bytes], others: list[int]
) -> tuple[bytes, tuple[int, int, int]]:
    """The explicit VR loop (see :func:`walk`): ``(charset, pixels)``."""
    table = elements.tables()
    held, vr_bytes = table["explicit"], table["vr_bytes"]
    long_vrs, vrs, grouping = elements.LONG_VRS, elements.VRS, elements.GROUPING_UIDS
    head, available, last, charset = _HEAD_VR, len(buf), 0, b""
    while pos < size:
        group, elem, vr, length = head(buf, pos)
        tag = group << 16 | elem
        if tag <= last:
            raise Odd
        last = tag
        if held.get(tag) == vr:  # held, of the dictionary's VR (a short one): most elements
            pos += 8
            raw[tag] = buf[pos : pos + length]
            pos += length
            continue
        if vr in long_vrs:
            length, start = _LENGTH(buf, pos + 8)[0], pos + 12
        elif vr in vrs and group != 0xFFFE:
            start = pos + 8
        else:
            raise Odd  # no VR; an item or delimiter at the top level
        others.append(tag)
        if tag >= _FIRST_PIXEL_TAG:
            if tag != _PIXEL_DATA or length == _UNDEFINED or start + length != size:
                raise Odd  # encapsulated, truncated, elements after it, or none
            if vr not in (b"OB", b"OW"):
                raise Odd  # pydicom converts another VR's value (text, numbers, items)
            return charset, (tag, start, length)
        if group == 0x0002:
            raise Odd
        if length == _UNDEFINED:
            elements.check_undefined(tag, vr)
            pos = elements.skip_sequence(buf, start, True)
            continue
        pos = start + length
        if pos > available:
            raise Short
        if tag in vr_bytes:  # held, of another VR (pydicom's, said) or a grouping UID
            if vr != vr_bytes[tag]:
                raise Odd  # another VR than the dictionary's: pydicom's, said (text_vr)
            if tag in grouping and not elements.clean_uid(buf, start, pos):
                raise Odd  # not one clean UID: pydicom's, mended and said (uid_values)
            raw[tag] = buf[start:pos]
        elif tag == _CHARSET:
            charset = buf[start:pos]
    raise Odd  # no pixel data: pydicom says why


def _implicit(
    buf: bytes, pos: int, size: int, raw: dict[int, bytes], others: list[int]
) -> tuple[bytes, tuple[int, int, int]]:
    """The implicit VR loop (see :func:`walk`): ``(charset, pixels)``."""
    vr_bytes, grouping = elements.tables()["vr_bytes"], elements.GROUPING_UIDS
    head, available, last, charset = _HEAD, len(buf), 0, b""
    while pos < size:
        group, elem, length = head(buf, pos)
        tag = group << 16 | elem
        if tag <= last or group == 0x0002 or group == 0xFFFE:
            raise Odd
        last = tag
        start = pos + 8
        if tag >= _FIRST_PIXEL_TAG:
            if tag != _PIXEL_DATA or length == _UNDEFINED or start + length != size:
                raise Odd  # encapsulated, truncated, elements after it, or none
            others.append(tag)
            return charset, (tag, start, length)
        if length == _UNDEFINED:
            elements.check_undefined(tag, b"")
            others.append(tag)
            pos = elements.skip_sequence(buf, start, False)
            continue
        pos = start + length
        if pos > available:
            raise Short
        if tag in vr_bytes:
            if tag in grouping and not elements.clean_uid(buf, start, pos):
                raise Odd  # not one clean UID: pydicom's, mended and said (uid_values)
            raw[tag] = buf[start:pos]
            continue
        others.append(tag)
        if tag == _CHARSET:
            charset = buf[start:pos]
    raise Odd  # no pixel data: pydicom says why


__all__ = ["walk"]
