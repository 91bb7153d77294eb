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

A Basic Offset Table that does not fit the fragments it indexes (more frames than there are
fragments, an offset past the end of the data, offsets that do not increase or fall inside a
fragment) was taken at its word: the file was refused as holding more frames than its header
says, or as truncated ("holds 2 of 3 frames"), though every fragment was there.
:func:`offset_table_problem` says what is wrong with the table instead
(:mod:`pipeline.dicom.offset_table` reads the frames past it where the fragments tell them).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

from pipeline.dicom.syntaxes import ITEM, RLE_LOSSLESS, SEQUENCE_DELIMITER

__all__ = [
    "Read",
    "frames_held",
    "item_offsets",
    "iter_fragments",
    "offset_table_problem",
    "pixel_reader",
    "starts_stream",
    "table_and_items",
]

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


def offset_table_problem(ds: Any, frames: int) -> str | None:
    """Why ``ds``'s Basic Offset Table does not fit its fragments or its ``frames``.

    PS3.5 A.4: one offset per frame, the first 0, each the distance from the first
    fragment's item to the item that starts the frame. ``None`` when it fits, without a
    table, or when the last item is cut short (a truncated file is told as such); a table
    of fewer frames than NumberOfFrames (``frames``) that the fragments can hold is said.

    Examples
    --------
    ``"its Basic Offset Table lists 4 frames but the pixel data holds 3 fragments (a frame
    takes at least one)"``
    """
    found = table_and_items(ds)
    if found is None:
        return None
    offsets, items, _ = found
    if len(offsets) < frames <= len(items):
        return (f"its Basic Offset Table lists {len(offsets)} frames, NumberOfFrames "
                f"(0028,0008) {frames}, over {len(items)} fragments")  # fmt: skip
    return _misfit(list(offsets), items)


def table_and_items(
    ds: Any, heads: bool = False
) -> tuple[tuple[int, ...], list[int], list[bytes]] | None:
    """``ds``'s Basic Offset Table, each fragment's item and (``heads``) first 8 bytes.

    The items are offsets from the first item, as the table's offsets are. ``None``
    without a table (an empty first item), for a malformed one, or when the last item is
    cut short (a truncated file is told as such).
    """
    with pixel_reader(ds) as found:
        if found is None:
            return None
        read, start, end = found
        try:
            tag, length = struct.unpack("<4sI", read(start, 8))
            if tag != ITEM or not length or length % 4 or start + 8 + length > end:
                return None
            offsets = struct.unpack(f"<{length // 4}I", read(start + 8, length))
            first = start + 8 + length
            items = item_offsets(read, first, end)
            if items is None:
                return None
            tops = [read(first + at + 8, 8) for at in items] if heads else []
        except (OSError, struct.error, ValueError):
            return None
    return offsets, items, tops


def item_offsets(read: Read, pos: int, end: int) -> list[int] | None:
    """Each fragment's item, as an offset from the first item, headers only.

    ``None`` unless the items end at the Sequence Delimitation Item or exactly at ``end`` (a
    value read holds no delimiter): a file cut inside an item is told as truncated.
    """
    first, found = pos, list[int]()
    while pos + 8 <= end:
        tag, length = struct.unpack("<4sI", read(pos, 8))
        if tag == SEQUENCE_DELIMITER:
            return found
        if tag != ITEM:
            return None
        found.append(pos - first)
        pos += 8 + length
    return found if pos == end else None


def _misfit(offsets: list[int], items: list[int]) -> str | None:
    table = "its Basic Offset Table"
    if len(offsets) > len(items):
        return (f"{table} lists {len(offsets)} frames but the pixel data holds "
                f"{len(items)} fragments (a frame takes at least one)")  # fmt: skip
    if offsets[0] != 0:
        return f"{table} gives the first frame offset {offsets[0]}, not 0"
    starts = set(items)
    for k, (before, at) in enumerate(pairwise(offsets), start=2):
        if at <= before:
            return f"{table}'s offsets do not increase (frame {k}: {at} after {before})"
        if at not in starts:
            past = at > items[-1]
            where = "past the last fragment" if past else "inside a fragment, not at one's start"
            return f"{table} puts frame {k} at offset {at}, {where}"
    return None


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
    streams = [starts_stream(head) for head in starts]
    if not streams or not streams[0]:
        return None
    return sum(streams), "by its fragments that start a codestream"


def starts_stream(head: bytes) -> bool:
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
