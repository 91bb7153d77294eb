"""Every frame's stream checked for loss, not the first alone.

A multi-frame file under a lossless-only transfer syntax can hold lossless frames and lossy
ones (frames re-encoded one by one by a router or an editor); the check of the first frame
alone passed such a file clean. Each frame's first bytes hold the markers that tell (T.81
SOF, T.87 SOS NEAR, T.800 COD), so the check reads only those (:data:`HEAD` bytes of each):
``convert`` from the frames it holds, ``inspect`` from each fragment's head in the file.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline.dicom.pixel_encoding import (
    LOSSLESS,
    LOSSY_STREAMS,
    lossy_stream_note,
    stream_syntax,
)
from pipeline.dicom.syntaxes import ITEM, SEQUENCE_DELIMITER

__all__ = ["HEAD", "deferred_lossy_note", "fragment_heads", "lossy_frames", "lossy_frames_note"]

#: Bytes of a frame read for its markers (main header or segments before the scan).
HEAD = 4096


def lossy_frames(heads: Sequence[bytes]) -> list[int]:
    """Indexes of the frames whose own markers say lossy."""
    return [k for k, head in enumerate(heads) if stream_syntax(head[:HEAD]) in LOSSY_STREAMS]


def lossy_frames_note(heads: Sequence[bytes], syntax: object) -> list[str]:
    """:func:`~pipeline.dicom.pixel_encoding.lossy_stream_note` over every frame.

    The words are the one-frame note's when every frame is lossy; otherwise they name the
    lossy frames (``frames 1, 3 of 4``) after the first lossy frame's stream.
    """
    if str(syntax or "").strip() not in LOSSLESS or not heads:
        return []
    lossy = lossy_frames(heads)
    if not lossy:
        return []
    (note,) = lossy_stream_note(heads[lossy[0]][:HEAD], syntax)
    if len(lossy) == len(heads):
        return [note]
    shown = ", ".join(map(str, lossy[:8])) + (", ..." if len(lossy) > 8 else "")
    which = f"the stream of {len(lossy)} of {len(heads)} frames (frame {shown})"
    return [note.replace("the stream is", f"{which} is", 1)]


def deferred_lossy_note(ds: Any) -> list[str]:
    """:func:`lossy_frames_note` for a header read that left the pixel data in the file.

    ``inspect`` reads headers only: the first :data:`HEAD` bytes of each frame's fragment
    are read from the file, so that it says what ``convert`` says. ``[]`` when the pixel data
    was read (the frame checks say it then) or the items are not where PS3.5 A.4 puts them.
    """
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if str(syntax or "").strip() not in LOSSLESS:  # first: a plain file reads nothing more
        return []
    elem = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    if elem is None or elem.value is not None:
        return []
    heads = fragment_heads(ds)
    return lossy_frames_note(heads, syntax) if heads else []


def fragment_heads(ds: Any, head: int = HEAD) -> list[bytes] | None:
    """The first ``head`` bytes of each fragment that starts a frame's stream.

    Read from ``ds`` or, left in the file by a header read, from its file (one seek and read
    per fragment); ``None`` when the items are not where PS3.5 A.4 puts them. A fragment that
    continues a frame (no stream markers at its start) is passed over.
    """
    elem = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    if elem is None:
        return None
    value = elem.value
    try:
        if isinstance(value, bytes):
            return _heads(lambda at, n: value[at : at + n], 0, len(value), head)
        path, tell = getattr(ds, "filename", None), getattr(elem, "value_tell", None)
        if value is not None or not isinstance(path, str | Path) or tell is None:
            return None
        with open(path, "rb") as fh:
            end = fh.seek(0, 2)

            def read(at: int, n: int) -> bytes:
                fh.seek(at)
                return fh.read(n)

            return _heads(read, tell, end, head)
    except (OSError, struct.error, ValueError):
        return None


def _heads(read: Callable[[int, int], bytes], start: int, end: int, head: int) -> list[bytes]:
    """Heads of the fragments between ``start`` (the offset table item) and ``end``."""
    found: list[bytes] = []
    at, first = start, True
    while at + 8 <= end:
        tag, length = struct.unpack("<4sI", read(at, 8))
        if tag == SEQUENCE_DELIMITER:
            break
        if tag != ITEM:
            raise ValueError("not an item")
        if not first:  # the first item is the Basic Offset Table
            data = read(at + 8, min(length, head))
            if stream_syntax(data) is not None:
                found.append(data)
        at, first = at + 8 + length, False
    return found
