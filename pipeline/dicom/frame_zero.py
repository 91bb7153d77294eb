"""Frame 0's codestream checks for a header read, so that ``inspect`` refuses what ``convert`` does.

:func:`~pipeline.dicom.decode.check_codestreams` checks JPEG-family and RLE frames against
the header (dimensions, sample precision, RLE segments) when the pixel data was read;
``inspect`` reads headers only and leaves pixel data past 4 KiB in the file, so a file whose
header does not describe its stream passed ``inspect`` clean and failed in ``convert`` (or
passed when small enough to be read). Here the first fragment after the Basic Offset Table
(PS3.5 A.4) is read from the file: its first 4 KiB (JPEG SOF / SIZ), or an RLE frame up to
the end of its first segment, and checked as ``convert`` checks frame 0.
"""

from __future__ import annotations

import struct
from typing import Any

from pipeline.dicom import codestream
from pipeline.dicom.fragments import iter_fragments, pixel_reader
from pipeline.dicom.lossy_frames import HEAD
from pipeline.dicom.rle_frames import rle_frame_problem
from pipeline.dicom.stream_bits import precision_problem
from pipeline.dicom.syntaxes import RLE_LOSSLESS

__all__ = ["deferred_frame_problem", "first_frame_problem", "frame_size_problem"]


def frame_size_problem(
    k: int, frame: bytes, rows: int, cols: int, frames: int, max_pixels: int
) -> str | None:
    """Why frame ``k``'s own dimensions (SOF / SIZ) do not fit the header, or ``None``."""
    size = codestream.frame_size(frame)
    if size is None:
        return None
    if size[0] * size[1] * size[2] * frames > max_pixels:
        return (f"frame {k}: the codestream claims {size[1]}x{size[0]}x{size[2]} pixels, over "
                f"the limit of {max_pixels:,} (checked before decoding).")  # fmt: skip
    if size[0] not in (0, rows) or size[1] != cols:
        return (f"frame {k}: the codestream is {size[1]}x{size[0]} (columns x rows) but "
                f"Columns x Rows (0028,0011)/(0028,0010) say {cols}x{rows}.")  # fmt: skip
    return None


def first_frame_problem(frame: bytes, ds: Any, syntax: str) -> str | None:
    """Why frame 0's stream does not fit the header (``convert``'s words, ending in ".").

    Its sample precision (JPEG family, T.81 samples kept) or its RLE segments (RLE streams
    have no markers); ``None`` when it fits. ``inspect`` (:func:`deferred_frame_problem`) and
    ``convert`` (:func:`~pipeline.dicom.decode.check_codestreams`) both ask it.
    """
    samples, bits = int(ds.get("SamplesPerPixel") or 1), int(ds.get("BitsAllocated") or 8)
    if codestream.is_jpeg_family(syntax):
        said = precision_problem(frame, bits, samples, codestream.keeps_jpeg_samples(syntax))
    else:
        said = rle_frame_problem(frame, int(ds.Rows), int(ds.Columns), samples, bits)
    return said + "." if said else None


def _first_fragment(ds: Any, n: int) -> bytes | None:
    """The first ``n`` bytes of the fragment after the Basic Offset Table, from the file."""
    elem = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    if elem is None or elem.value is not None:  # read: check_codestreams checks it
        return None
    try:
        with pixel_reader(ds) as found:
            return None if found is None else next(iter_fragments(*found, n), None)
    except (OSError, struct.error, ValueError):
        return None


def deferred_frame_problem(ds: Any, max_pixels: int, frames: int) -> str | None:
    """Why frame 0 does not fit the header (``convert``'s words), for pixel data left unread.

    ``None`` when it fits, when the syntax is neither JPEG-family nor RLE, or when the pixel
    data was read (:func:`~pipeline.dicom.decode.check_codestreams` checks it then).
    """
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "") if meta is not None else "")
    family = codestream.is_jpeg_family(syntax)
    if not family and syntax != RLE_LOSSLESS:
        return None
    head = _first_fragment(ds, HEAD)
    if not head:
        return None
    rows, cols = int(ds.Rows), int(ds.Columns)
    if family:
        said = first_frame_problem(head, ds, syntax)
        return said or frame_size_problem(0, head, rows, cols, frames, max_pixels)
    count, _, second = struct.unpack_from("<3I", head) if len(head) >= 12 else (0, 0, 0)
    end = second if 1 < count <= 15 and second > 64 else 64 + 2 * rows * cols + 2
    frame = _first_fragment(ds, end) if end > len(head) else head
    return first_frame_problem(frame or head, ds, syntax)
