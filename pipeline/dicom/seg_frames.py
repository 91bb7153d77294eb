"""A SEG's frames read one by one with pydicom: their segment and source frames.

Each frame's PerFrameFunctionalGroupsSequence names both (PS3.3 C.8.20.3, C.7.6.16.2.6).

highdicom finds a SEG's frames through its dimension index (DimensionIndexSequence); a SEG
whose writer indexed its frames by position alone, without ReferencedSegmentNumber, cannot be
queried by source image there ("The tag (0062,000B) ... is not used as a dimension index").
Each frame still names its segment and its source frames, which is all a mask needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.dicom.files import sanitize
from pipeline.errors import RadpipeError

__all__ = ["decoded_frames", "frame_references", "frame_segment", "indexed_by_segment"]

_SEGMENT_POINTER = 0x0062000B  # ReferencedSegmentNumber


def indexed_by_segment(seg: Any) -> bool:
    """Whether highdicom can query ``seg`` by source image.

    A LABELMAP (one frame holds every segment), or ReferencedSegmentNumber among its
    DimensionIndexSequence's pointers.
    """
    if str(seg.get("SegmentationType", "")) == "LABELMAP":
        return True
    pointers = [int(item.get("DimensionIndexPointer", 0) or 0)
                for item in seg.get("DimensionIndexSequence") or []]  # fmt: skip
    return _SEGMENT_POINTER in pointers


def decoded_frames(seg: Any, name: str) -> np.ndarray:
    """Every frame's stored values, (frames, rows, columns) (BINARY's bits unpacked)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(seg.pixel_array).reshape(-1, int(seg.Rows), int(seg.Columns))
    except Exception as err:
        raise RadpipeError(f"{name}: its frames cannot be decoded: {type(err).__name__}: "
                           f"{sanitize(str(err))}") from None  # fmt: skip


def _group(seg: Any, index: int, keyword: str) -> Any:
    """``keyword``'s sequence in frame ``index``'s functional groups, or the shared ones'."""
    groups = seg.get("PerFrameFunctionalGroupsSequence") or []
    found = groups[index].get(keyword) if index < len(groups) else None
    shared = seg.get("SharedFunctionalGroupsSequence") or []
    return found or (shared[0].get(keyword) if shared else None)


def frame_segment(seg: Any, index: int) -> int | None:
    """The ReferencedSegmentNumber of frame ``index`` (from 0), or None."""
    ident = _group(seg, index, "SegmentIdentificationSequence")
    return int(ident[0].ReferencedSegmentNumber) if ident else None


def frame_references(seg: Any, index: int) -> list[tuple[str, int]]:
    """The source frames frame ``index`` is derived from: ``(SOPInstanceUID, frame from 0)``.

    A single-frame source, or one without ReferencedFrameNumber: its frame 0.
    """
    out = []
    for derivation in _group(seg, index, "DerivationImageSequence") or []:
        for source in derivation.get("SourceImageSequence") or []:
            numbers = source.get("ReferencedFrameNumber")
            if numbers in (None, ""):
                numbers = [1]
            elif not isinstance(numbers, Sequence):  # one value: an IS, not a MultiValue
                numbers = [numbers]
            out += [(str(source.ReferencedSOPInstanceUID), int(n) - 1) for n in numbers]
    return out
