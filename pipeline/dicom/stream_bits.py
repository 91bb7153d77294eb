"""A JPEG-family frame's sample precision checked against BitsAllocated (found by fuzzing).

A JPEG-LS or JPEG 2000 stream of 16-bit samples under BitsAllocated 8 decoded into 8-bit
cells: pydicom cast the values down (2145 became 97, or 0), and radpipe wrote them with exit
0 and no word. A T.81 colour stream of 8-bit samples under BitsAllocated 16 failed with
numpy's words ("could not broadcast input array from shape (15000,) into shape (30000,)").
Both are refused naming the precision the stream's own marker gives (T.81 / T.87 SOF P,
T.800 SIZ Ssiz) and the header's BitsAllocated (PS3.5 8.2: the two must agree).
"""

from __future__ import annotations

from pipeline.dicom.codestream import _SOF, j2k_sample_format, jpeg_segments

__all__ = ["precision_problem", "stream_precision"]


def stream_precision(frame: bytes) -> int | None:
    """The sample precision a JPEG, JPEG-LS or JPEG 2000 frame's own header gives."""
    found = j2k_sample_format(frame)
    if found is not None:
        return found[1]
    if frame[:2] != b"\xff\xd8":
        return None
    for marker, body in jpeg_segments(frame):
        if marker in _SOF:
            return body[0] if body else None
    return None


def precision_problem(frame: bytes, bits: int, samples: int, t81: bool) -> str | None:
    """Why frame 0's samples do not fit BitsAllocated ``bits``, or ``None``.

    ``t81``: a T.81 JPEG syntax, whose 8-bit colour samples pydicom decodes into 8-bit cells
    only.
    """
    precision = stream_precision(frame)
    if precision is None:
        return None
    said = (f"frame 0: the codestream's samples are {precision}-bit (its own header says so) "
            f"but BitsAllocated (0028,0100) is {bits}")  # fmt: skip
    if precision > bits:
        return f"{said}: the values would be cut to {bits} bits"
    if t81 and samples == 3 and precision <= 8 and bits != 8:
        return f"{said}: 8-bit JPEG colour samples fill 8-bit cells (pydicom decodes them so)"
    return None
