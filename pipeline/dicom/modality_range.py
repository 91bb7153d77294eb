"""Modality values that float32 outputs cannot hold as the rescale gives them.

NPY and NIfTI hold modality values (``stored x RescaleSlope + RescaleIntercept``, PS3.3
C.11.1.1.2) as float32. A rescale that maps the stored values present past float32's range
(3.4e38) made them infinities, and one whose values are so large beside its slope that float32
cannot tell adjacent stored values apart (it holds 24 significant bits) merged them; both were
written with exit 0 and no word (found by ``benchmarks/fuzz_oracle.py``: a RescaleSlope of 1e38
gave an image of -inf and +inf, a RescaleIntercept of 1e38 one flat image).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.dicom.frame_info import FrameInfo
from pipeline.errors import DicomError

_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: float32 holds every whole number up to 2**24: past that, steps of 1 are lost.
_EXACT = 2**24


def _rescale_name(ds: Any, slope: float, intercept: float) -> str:
    if "DoseGridScaling" in ds:  # RT Dose: stored x DoseGridScaling (PS3.3 C.8.8.3)
        return f"DoseGridScaling (3004,000E) {slope:g}"
    return f"RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) {slope:g} and {intercept:g}"


def modality_range_notes(
    ds: Any, frames: Sequence[FrameInfo], span: tuple[int, int] | None, lut: bool
) -> list[str]:
    """Refuse a rescale that overflows float32; note one that merges stored values in it.

    Both are judged on the stored values present (``span``), as the outputs hold them.

    Parameters
    ----------
    ds
        The data set (for the names of the tags the rescale came from).
    frames
        Every frame's slope and intercept.
    span
        The smallest and largest stored value present (integer grey data), else ``None``.
    lut
        Whether a Modality LUT Sequence replaces the rescale (its entries are 16-bit at most).

    Raises
    ------
    DicomError
        With an empty source (the caller names the file): values past float32's range.
    """
    if span is None or lut:
        return []
    notes: list[str] = []
    for slope, intercept in dict.fromkeys((f.slope, f.intercept) for f in frames):
        low, high = (slope * span[0] + intercept, slope * span[1] + intercept)
        top = max(abs(low), abs(high))
        if top > _FLOAT32_MAX:
            raise DicomError("", f"{_rescale_name(ds, slope, intercept)} map the "
                                 f"stored values {span[0]}..{span[1]} to {low:g}..{high:g}, "
                                 "past float32's range (3.4e38) that the outputs hold (they "
                                 "would be infinities); a damaged value.")  # fmt: skip
        steps = top / abs(slope)
        if span[1] > span[0] and steps > _EXACT and max(map(abs, span)) <= _EXACT:
            notes.append(f"{_rescale_name(ds, slope, intercept)} gives values up to "
                         f"{top:g}, {steps:.3g} times the slope: float32 outputs (NPY, NIfTI) "
                         "hold 24 significant bits, so stored values 1 apart may be written "
                         "as the same value")  # fmt: skip
    return notes


def header_range_notes(ds: Any) -> list[str]:
    """What the header alone tells of :func:`modality_range_notes`' refusal, for inspect.

    ``inspect`` reads headers only: it said nothing of a rescale that ``convert`` then
    refused. A note when some stored values the header allows (BitsStored, PixelRepresentation) map
    past float32's range, naming those that do not: ``convert`` judges the values present,
    which ``inspect --decode`` reads. Stored value 0 maps to the intercept, which the header
    checks refuse past that range, so never all of them do. Integer grey data without a
    Modality LUT Sequence only.
    """
    from pipeline.dicom.values import integer, lenient_number

    if "PixelData" not in ds or ds.get("ModalityLUTSequence") or "DoseGridScaling" in ds:
        return []
    if int(integer(ds, "SamplesPerPixel", 1) or 1) != 1:
        return []
    slope = lenient_number(ds.get("RescaleSlope")) or 1.0  # 0 is replaced by 1, as read
    intercept = lenient_number(ds.get("RescaleIntercept")) or 0.0
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        return []  # refused by the header checks
    bits = int(integer(ds, "BitsStored", None) or integer(ds, "BitsAllocated", 16) or 16)
    signed = int(integer(ds, "PixelRepresentation", 0) or 0) == 1
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    # the stored values v with |slope * v + intercept| <= float32's largest value
    ends = sorted(((-_FLOAT32_MAX - intercept) / slope, (_FLOAT32_MAX - intercept) / slope))
    first, last = max(low, math.ceil(ends[0])), min(high, math.floor(ends[1]))
    if first <= low and last >= high:
        return []
    return [f"{_rescale_name(ds, slope, intercept)} map stored values outside {first}..{last} "
            f"(of {low}..{high}) past float32's range (3.4e38) that the outputs hold: a file "
            "holding any of them is refused when converted (inspect --decode tries)"]  # fmt: skip


__all__ = ["header_range_notes", "modality_range_notes"]
