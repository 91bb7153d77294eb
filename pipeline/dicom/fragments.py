"""How many frames encapsulated pixel data holds, told from its items without decoding.

NumberOfFrames (0028,0008) can disagree with the pixel data (pydicom #1666): a header
written for one frame over a file of three. pydicom then decodes the frames its Basic
Offset Table lists (three, which failed later as a shape mismatch: ``inspect`` passed the
file, ``convert`` refused it in a decoder's words) or, without an offset table, joins every
fragment into the one frame asked for and decodes the first stream (two frames dropped,
unsaid). :func:`frames_held` counts the frames from the Extended Offset Table (7FE0,0001),
else the Basic Offset Table, else the fragments that start a codestream (PS3.5 A.4: a frame
starts a new fragment; an RLE frame is one fragment), so both commands refuse such a file
with the two counts. ``inspect`` leaves pixel data past 4 KiB in the file: the items are read
from there (until 2026-12-03 nothing was counted then, and ``inspect`` passed a file that
``convert`` refused).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.dicom.syntaxes import ITEM, RLE_LOSSLESS, SEQUENCE_DELIMITER

__all__ = ["Read", "frames_held", "iter_fragments", "pixel_reader"]

_STARTS = (b"\xff\xd8", b"\xff\x4f\xff\x51")  # JPEG / JPEG-LS SOI, JPEG 2000 SOC + SIZ


def frames_held(ds: Any, syntax: str) -> tuple[int, str] | None:
    """Frames in ``ds``'s encapsulated pixel data and what counted them, else ``None``.

    Read from the value or, left in the file by a header read (``inspect``), from the file:
    the items' headers and each fragment's first bytes, one seek and read each. Not told for
    malformed items (the decoder says why) or streams of other kinds (video holds every
    frame in one stream).
    """
    table = ds.get("ExtendedOffsetTable") if "ExtendedOffsetTable" in ds else None
    if isinstance(table, bytes) and table:
        return len(table) // 8, "by its Extended Offset Table"
    with pixel_reader(ds) as found:
        if found is None:
            return None
        read, start, end = found
        return _count(read, start, end, syntax)


#: ``read(at, n)``: ``n`` bytes of the pixel data's value (or its file) from offset ``at``.
Read = Callable[[int, int], bytes]


@contextmanager
def pixel_reader(ds: Any) -> Iterator[tuple[Read, int, int] | None]:
    """``(read, start, end)`` over the encapsulated pixel data of ``ds``, else ``None``.

    Over its value when read, else over its file from where the value starts (a header read
    leaves it there; one seek and read per call). ``None`` when there is neither, or the file
    cannot be opened. ``start`` is the offset table's item, ``end`` where the data stop at
    the latest.
    """
    elem = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    value = getattr(elem, "value", None)
    if isinstance(value, bytes):
        yield (lambda at, n: value[at : at + n]), 0, len(value)
        return
    path, tell = getattr(ds, "filename", None), getattr(elem, "value_tell", None)
    if elem is None or value is not None or not isinstance(path, str | Path) or tell is None:
        yield None
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, after the caller's reads
    except OSError:
        yield None
        return
    with fh:

        def read(at: int, n: int) -> bytes:
            fh.seek(at)
            return fh.read(n)

        yield read, tell, fh.seek(0, 2)


def iter_fragments(read: Read, start: int, end: int, head: int) -> Iterator[bytes]:
    """The first ``head`` bytes of each fragment after the offset table item at ``start``.

    In order, up to the Sequence Delimitation Item or ``end``, one read per item as they are
    asked for (the first alone costs two). Raises ``ValueError`` at an element that is no
    item, where PS3.5 A.4 puts only items.
    """
    at, first = start, True
    while at + 8 <= end:
        tag, length = struct.unpack("<4sI", read(at, 8))
        if tag == SEQUENCE_DELIMITER:
            return
        if tag != ITEM:
            raise ValueError("not an item")
        if not first:  # the first item is the Basic Offset Table
            yield read(at + 8, min(length, head))
        at, first = at + 8 + length, False


def _count(read: Read, start: int, end: int, syntax: str) -> tuple[int, str] | None:
    try:
        first = read(start, 8)
        if len(first) < 8:
            return None
        tag, length = struct.unpack("<4sI", first)
        if tag != ITEM:
            return None
        if length:  # a Basic Offset Table: one offset per frame
            return length // 4, "by its Basic Offset Table"
        starts = _fragment_starts(read, start + 8, end)
    except (OSError, struct.error):
        return None
    if syntax == RLE_LOSSLESS:
        return len(starts), "by its fragments, one per RLE frame"
    streams = [_starts_stream(head) for head in starts]
    if not streams or not streams[0]:
        return None
    return sum(streams), "by its fragments that start a codestream"


def _starts_stream(head: bytes) -> bool:
    """Whether a fragment begins a JPEG-family codestream (or a JP2 file)."""
    return head.startswith(_STARTS) or head[4:8] in (b"jP  ", b"jP\x1a\x1a")


def _fragment_starts(read: Read, pos: int, end: int) -> list[bytes]:
    """The first 8 bytes of each whole fragment (items after the offset table)."""
    found: list[bytes] = []
    while pos + 8 <= end:
        tag, length = struct.unpack("<4sI", read(pos, 8))
        if tag != ITEM or pos + 8 + length > end:
            break
        found.append(read(pos + 8, 8))  # as many as a stream's markers need
        pos += 8 + length
    return found
