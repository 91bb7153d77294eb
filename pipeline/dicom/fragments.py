"""How many frames encapsulated pixel data holds, told from its items without decoding.

NumberOfFrames (0028,0008) can disagree with the pixel data (pydicom #1666): a header
written for one frame over a file of three. pydicom then decodes the frames its Basic
Offset Table lists (three, which failed later as a shape mismatch: ``inspect`` passed the
file, ``convert`` refused it in a decoder's words) or, without an offset table, joins every
fragment into the one frame asked for and decodes the first stream (two frames dropped,
unsaid). :func:`frames_held` counts the frames from the Extended Offset Table (7FE0,0001),
else the Basic Offset Table, else the fragments that start a codestream (PS3.5 A.4: a frame
starts a new fragment; an RLE frame is one fragment), so both commands refuse such a file
with the two counts.
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["frames_held"]

_ITEM = 0xE000FFFE  # (FFFE,E000) read as one little-endian 32-bit word
_RLE = "1.2.840.10008.1.2.5"
_STARTS = (b"\xff\xd8", b"\xff\x4f\xff\x51")  # JPEG / JPEG-LS SOI, JPEG 2000 SOC + SIZ


def frames_held(ds: Any, syntax: str) -> tuple[int, str] | None:
    """Frames in ``ds``'s encapsulated pixel data and what counted them, else ``None``.

    Not told for a value not read (a defined length deferred), malformed items (the decoder
    says why) or streams of other kinds (video holds every frame in one stream).
    """
    table = ds.get("ExtendedOffsetTable") if "ExtendedOffsetTable" in ds else None
    if isinstance(table, bytes) and table:
        return len(table) // 8, "by its Extended Offset Table"
    elem = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    data = getattr(elem, "value", None)
    if not isinstance(data, bytes) or len(data) < 8:
        return None
    tag, length = struct.unpack_from("<II", data)
    if tag != _ITEM:
        return None
    if length:  # a Basic Offset Table: one offset per frame
        return length // 4, "by its Basic Offset Table"
    starts = [data[at : at + 8] for at in _fragment_starts(data, 8 + length)]
    if syntax == _RLE:
        return len(starts), "by its fragments, one per RLE frame"
    streams = [_starts_stream(head) for head in starts]
    if not streams or not streams[0]:
        return None
    return sum(streams), "by its fragments that start a codestream"


def _starts_stream(head: bytes) -> bool:
    """Whether a fragment begins a JPEG-family codestream (or a JP2 file)."""
    return head.startswith(_STARTS) or head[4:8] in (b"jP  ", b"jP\x1a\x1a")


def _fragment_starts(data: bytes, pos: int) -> list[int]:
    """Where each fragment's data start (items after the offset table), up to a delimiter."""
    found: list[int] = []
    while pos + 8 <= len(data):
        tag, length = struct.unpack_from("<II", data, pos)
        if tag != _ITEM or pos + 8 + length > len(data):
            break
        found.append(pos + 8)
        pos += 8 + length
    return found
