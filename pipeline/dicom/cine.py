"""The time step of a cine: the frames of one classic multi-frame file without geometry.

A cine (ultrasound, XA, endoscopy) gives the time between its frames in FrameTime
(0018,1063, ms, the same for every frame) or FrameTimeVector (0018,1065, ms: each frame's
increment from the one before, the first 0), the one FrameIncrementPointer (0028,0009) names
(PS3.3 C.7.6.6 Multi-frame Module, C.7.6.5 Cine Module). Its NIfTI carries
the step as its time zoom, like the RepetitionTime of other 4-D series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pipeline.dicom.values import numbers
from pipeline.errors import DicomError

__all__ = ["cine_as_time_points", "cine_intervals", "cine_problem", "cine_step"]

_FRAME_TIME, _FRAME_TIME_VECTOR = 0x00181063, 0x00181065


def cine_intervals(ds: Any, count: int) -> list[float | None] | None:
    """Per frame of a classic multi-frame file, its time (ms) after the frame before.

    ``None`` for a single frame, an Enhanced object, a FrameIncrementPointer that names
    neither (the frames of an NM file are slices, gates or energy windows), or a file with
    neither a FrameTime above 0 nor a FrameTimeVector of ``count`` values (the first 0).
    """
    if count < 2 or "PerFrameFunctionalGroupsSequence" in ds:
        return None
    pointer = ds.get("FrameIncrementPointer")
    named = _tags(pointer) if pointer is not None else [_FRAME_TIME, _FRAME_TIME_VECTOR]
    if not {_FRAME_TIME, _FRAME_TIME_VECTOR} & set(named):
        return None  # frames along other vectors (NM slices, gates, energy windows)
    vector = _floats(ds.get("FrameTimeVector")) if "FrameTimeVector" in ds else []
    step = _floats(ds.get("FrameTime")) if "FrameTime" in ds else []
    wants_vector = _FRAME_TIME_VECTOR in named and _FRAME_TIME not in named
    if len(vector) == count and (wants_vector or not (step and step[0] > 0)):
        return [None, *vector[1:]]
    if step and step[0] > 0:
        return [None, *([step[0]] * (count - 1))]
    return None


def cine_problem(ds: Any, count: int) -> str:
    """What a cine says when the frame times its FrameIncrementPointer names are unusable.

    A FrameTime of 0 or below, or a FrameTimeVector missing, not one value per frame or with
    an increment not above 0, gave no time step: the NIfTI was 3-D with a frame step of 1 and
    the frame rate was lost, unsaid. ``""`` when the times are usable or none is named.
    """
    if count < 2 or "PerFrameFunctionalGroupsSequence" in ds:
        return ""
    pointer = ds.get("FrameIncrementPointer")
    named = _tags(pointer) if pointer is not None else []
    if not {_FRAME_TIME, _FRAME_TIME_VECTOR} & set(named):
        return ""
    intervals = cine_intervals(ds, count)
    if intervals is not None and cine_step(intervals)[0] is not None:
        return ""
    vector = _FRAME_TIME_VECTOR in named and _FRAME_TIME not in named
    which = "FrameTimeVector (0018,1065)" if vector else "FrameTime (0018,1063)"
    what = (f"missing, not {count} values or with an increment not above 0" if vector
            else "missing or not above 0")  # fmt: skip
    return (
        f"cine time step unknown: FrameIncrementPointer (0028,0009) names {which}, which "
        f"is {what}: the frames are written without a time step"
    )


def cine_step(intervals: Sequence[float | None]) -> tuple[float | None, str]:
    """The time step (ms) of consecutive frames with these ``intervals``, and a note.

    The first interval is not used; the note says when they are uneven (more than 1 %
    apart); ``(None, "")`` when an interval is unknown or not above 0.
    """
    found = list(intervals[1:])
    if not found or any(v is None or not v > 0 for v in found):
        return None, ""
    steps = [float(v) for v in found if v is not None]
    step = sum(steps) / len(steps)
    if max(steps) - min(steps) <= 0.01 * step:
        return step, ""
    return step, (
        f"cine time step: frame intervals of {min(steps):g} to {max(steps):g} ms "
        f"(FrameTimeVector); the NIfTI's time step is their mean, {step:.4g} ms"
    )


def cine_as_time_points(volume: Any) -> Any:
    """A cine volume ``(T, H, W)`` as ``(T, 1, H, W)`` time points of one slice.

    Its ``frame_time`` becomes their step (``repetition_time``, ms), as NIfTI writes 4-D
    series; any other :class:`~pipeline.dicom.volume.SeriesVolume` is returned unchanged.
    """
    if volume.frame_time is None or volume.image.ndim - volume.rgb != 3:
        return volume
    return replace(volume, image=volume.image[:, None], repetition_time=volume.frame_time)


def _floats(value: Any) -> list[float]:
    try:  # as the reader reads DS values: "33,3" written in a comma locale is 33.3
        return list(numbers(value, None, "") or [])
    except (DicomError, TypeError, ValueError):
        return []


def _tags(pointer: Any) -> list[int]:
    items = pointer if isinstance(pointer, list | tuple) else [pointer]
    try:
        return [int(v) for v in items]
    except (TypeError, ValueError):
        return []
