"""An RLE frame checked against the header before decoding (PS3.5 Annex G).

An RLE Lossless frame is a 64-byte header (the number of segments and their offsets) and one
PackBits segment per byte of each sample (G.2), each of which decodes to Rows x Columns bytes
(G.3). A header whose Rows or Columns is wrong (or BitsAllocated) was met in two ways: pydicom's
own decoder warned ("non-conformant padding"), but pylibjpeg-rle, tried first, silently kept
the first Rows x Columns bytes of each segment, so a 64x64 image said to be 64x3 came out as
a 64x3 image of garbage with exit 0; and a segment count that BitsAllocated does not give was
refused with both plugins' messages ("every installed decoder failed ..."). The first frame's
segment count and its first segment's decoded length are checked here, naming the header
values; the length is counted without decoding (PackBits run headers only).
"""

from __future__ import annotations

import struct

__all__ = ["rle_frame_problem"]


def _decoded_length(segment: bytes) -> int:
    """How many bytes a PackBits ``segment`` decodes to (one step per run: no bytes made)."""
    n = i = 0
    end = len(segment)
    while i < end:
        h = segment[i]
        if h < 128:  # a literal run of h + 1 bytes
            n, i = n + h + 1, i + h + 2
        elif h > 128:  # one byte repeated 257 - h times
            n, i = n + 257 - h, i + 2
        else:  # 128: no operation
            i += 1
    return n


def rle_frame_problem(frame: bytes, rows: int, cols: int, samples: int, bits: int) -> str | None:
    """Why the RLE ``frame`` (frame 0) does not fit the header, or ``None``.

    Examples
    --------
    >>> segment = bytes([255, 7] * 2)  # 2 runs of 2 bytes: 4 bytes decoded
    >>> head = struct.pack("<16I", 1, 64, *[0] * 14)
    >>> rle_frame_problem(head + segment, 2, 2, 1, 8) is None
    True
    >>> rle_frame_problem(head + segment, 1, 1, 1, 8)
    "RLE frame 0's first segment decodes to 4 bytes, but Rows x Columns (0028,0010)/(0028,0011) say 1x1 = 1 (PS3.5 G.3): the header does not describe the stream"
    """  # noqa: E501
    if len(frame) < 64:
        return f"RLE frame 0 holds {len(frame)} bytes, fewer than its 64-byte header (PS3.5 G.5)"
    count, *offsets = struct.unpack("<16I", frame[:64])
    need = samples * ((bits + 7) // 8)
    if not 0 < count <= 15:  # no header at all (a corrupt stream): the decoders say so
        return None
    if count != need:
        return (
            f"RLE frame 0 holds {count} segments, but SamplesPerPixel (0028,0002) {samples} x "
            f"BitsAllocated (0028,0100) {bits} need {need}, one per byte of each sample "
            "(PS3.5 G.2): the header does not describe the stream"
        )
    start = offsets[0]
    stop = offsets[1] if count > 1 and offsets[1] > start else len(frame)
    size = rows * cols
    got = _decoded_length(frame[start:stop])
    if got < size or got >= size + cols:  # a pad byte or so past the end is tolerated
        return (
            f"RLE frame 0's first segment decodes to {got:,} bytes, but Rows x Columns "
            f"(0028,0010)/(0028,0011) say {rows}x{cols} = {size:,} (PS3.5 G.3): the header "
            "does not describe the stream"
        )
    return None
