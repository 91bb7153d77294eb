"""The time step of a cine: the frames of one classic multi-frame file without geometry.

A cine (ultrasound, XA, endoscopy) gives the time between its frames in FrameTime
(0018,1063, ms, the same for every frame) or FrameTimeVector (0018,1065, ms: each frame's
increment from the one before, the first 0), the one FrameIncrementPointer (0028,0009) names
(PS3.3 C.7.6.6 Multi-frame Module, C.7.6.5 Cine Module). Its NIfTI carries
the step as its time zoom, like the RepetitionTime of other 4-D series.

A cine with neither but a CineRate (0018,0040, "number of frames per second", C.7.6.5) or,
failing that, a RecommendedDisplayFrameRate (0008,2144, frames per second, the rate to show
it at) lost its time step: it was written 3-D with a frame step of 1, its frames said to be
"images without ImagePositionPatient ... stacked in acquisition order" rather than the frames
of one file. Its step is now 1000 / rate ms, and a note names the element it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pipeline.dicom.values import numbers
from pipeline.errors import DicomError

__all__ = ["cine_as_time_points", "cine_intervals", "cine_problem", "cine_step", "pointer_tags"]

_FRAME_TIME, _FRAME_TIME_VECTOR = 0x00181063, 0x00181065


def cine_intervals(ds: Any, count: int) -> list[float | None] | None:
    """Per frame of a classic multi-frame file, its time (ms) after the frame before.

    From FrameTime or FrameTimeVector, else 1000 / CineRate or RecommendedDisplayFrameRate
    (frames per second; :func:`cine_problem` says which). ``None`` for a single frame, an
    Enhanced object, a FrameIncrementPointer that names neither time element (the frames of
    an NM file are slices, gates or energy windows), or a file with none of these usable.
    """
    named = _named_times(ds, count)
    if named is None:
        return None
    own = _own_intervals(ds, count, named)
    rate = _rate_step(ds) if own is None else None
    return own if rate is None else [None, *([rate[0]] * (count - 1))]


def _named_times(ds: Any, count: int) -> list[int] | None:
    """The time elements FrameIncrementPointer names (both when absent); ``None``: no cine."""
    if count < 2 or "PerFrameFunctionalGroupsSequence" in ds:
        return None
    pointer = ds.get("FrameIncrementPointer")
    named = pointer_tags(pointer) if pointer is not None else [_FRAME_TIME, _FRAME_TIME_VECTOR]
    return named if {_FRAME_TIME, _FRAME_TIME_VECTOR} & set(named) else None


def _own_intervals(ds: Any, count: int, named: list[int]) -> list[float | None] | None:
    vector = _floats(ds.get("FrameTimeVector")) if "FrameTimeVector" in ds else []
    step = _floats(ds.get("FrameTime")) if "FrameTime" in ds else []
    wants_vector = _FRAME_TIME_VECTOR in named and _FRAME_TIME not in named
    if len(vector) == count and (wants_vector or not (step and step[0] > 0)):
        return [None, *vector[1:]]
    if step and step[0] > 0:
        return [None, *([step[0]] * (count - 1))]
    return None


def _rate_step(ds: Any) -> tuple[float, str] | None:
    """1000 / the frame rate (ms) and the element it came from, when one is above 0."""
    for keyword, tag in (("CineRate", "(0018,0040)"),
                         ("RecommendedDisplayFrameRate", "(0008,2144)")):  # fmt: skip
        rate = _floats(ds.get(keyword)) if keyword in ds else []
        if rate and rate[0] > 0:
            shown = " (the rate to display it at)" if keyword != "CineRate" else ""
            return 1000.0 / rate[0], f"{keyword} {tag} {rate[0]:g} frames/s{shown}"
    return None


def cine_problem(ds: Any, count: int) -> str:
    """What a cine says when the frame times its FrameIncrementPointer names are unusable.

    A FrameTime of 0 or below, or a FrameTimeVector missing, not one value per frame or with
    an increment not above 0, gave no time step: the NIfTI was 3-D with a frame step of 1 and
    the frame rate was lost, unsaid. A step taken from a frame rate instead names the rate.
    ``""`` when the times are usable or none is named.
    """
    named = _named_times(ds, count)
    if named is None:
        return ""
    own = _own_intervals(ds, count, named)
    if own is not None and cine_step(own)[0] is not None:
        return ""
    vector = _FRAME_TIME_VECTOR in named and _FRAME_TIME not in named
    which = "FrameTimeVector (0018,1065)" if vector else "FrameTime (0018,1063)"
    what = (f"missing, not {count} values or with an increment not above 0" if vector
            else "missing or not above 0")  # fmt: skip
    said = "FrameIncrementPointer" in ds
    if (rate := _rate_step(ds)) is not None and own is None:
        why = (f"FrameIncrementPointer (0028,0009) names {which}, which is {what}" if said
               else "no FrameTime (0018,1063) or FrameTimeVector (0018,1065)")  # fmt: skip
        return f"cine time step {rate[0]:.4g} ms, 1000 / {rate[1]}: {why}"
    if not said:
        return ""
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


def pointer_tags(pointer: Any) -> list[int]:
    """The tags a FrameIncrementPointer (0028,0009) value names; ``[]`` when unreadable.

    Several tags come as pydicom's MultiValue, no list: read as one, they named nothing.
    """
    items = pointer if isinstance(pointer, Sequence) and not isinstance(pointer, str) else [pointer]
    try:
        return [int(v) for v in items]
    except (TypeError, ValueError):
        return []
