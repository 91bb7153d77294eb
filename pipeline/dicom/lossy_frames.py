"""Every frame's stream checked for loss, not the first alone.

A multi-frame file under a lossless-only transfer syntax can hold lossless frames and lossy
ones (frames re-encoded one by one by a router or an editor); the check of the first frame
alone passed such a file clean. Each frame's first bytes hold the markers that tell (T.81
SOF, T.87 SOS NEAR, T.800 COD), so the check reads only those (:data:`HEAD` bytes of each):
``convert`` from the frames it holds, ``inspect`` from each fragment's head in the file.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from pipeline.dicom.fragments import iter_fragments, pixel_reader
from pipeline.dicom.pixel_encoding import (
    LOSSLESS,
    LOSSY_STREAMS,
    lossy_stream_note,
    stream_syntax,
)

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
    try:
        with pixel_reader(ds) as found:
            if found is None:
                return None
            return [data for data in iter_fragments(*found, head)
                    if stream_syntax(data) is not None]  # fmt: skip
    except (OSError, struct.error, ValueError):
        return None
