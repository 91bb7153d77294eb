"""Co-located frames of one orientation group (time points, echoes, components) as stacks.

Used by :func:`pipeline.dicom.assemble.plan_series`: frames at one position along the slice
normal are told apart by the first of :data:`~pipeline.dicom.frames.STACK_KEYS` whose values
make (value, position) unique, else by acquisition order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from itertools import combinations, pairwise
from typing import Any

import numpy as np

from pipeline.dicom import geometry
from pipeline.dicom.files import escape_name
from pipeline.dicom.frames import STACK_KEYS, FrameRef
from pipeline.dicom.incomplete_stacks import rank_with_gaps
from pipeline.dicom.rounding import MAX_STEP_FRACTION, position_unit, rounded_places
from pipeline.dicom.stack import step_tolerance
from pipeline.dicom.stack_keys import DIRECTION
from pipeline.dicom.volume_plan import POSITION_TOLERANCE
from pipeline.words import counted

__all__ = [
    "SAME_POSITION", "acquisition_order", "colocated_stacks", "day_times", "position_places",
    "same_position", "same_positions", "short_stacks", "unplaced_slices",
]  # fmt: skip

#: Frames closer than this along the normal (mm) are at the same position.
SAME_POSITION = 0.01

_ACQUISITION = "acquisition order (AcquisitionTime, InstanceNumber)"

#: Each key alone, then pairs (magnitude and phase of two echoes: neither alone is unique).
_KEY_SETS = [(j,) for j in range(len(STACK_KEYS))] + list(combinations(range(len(STACK_KEYS)), 2))


_DAY, _SPAN = 86400.0, 6 * 3600.0


def day_times(frames: list[FrameRef]) -> list[FrameRef]:
    """Frames whose undated times crossed midnight, their times after it a day later.

    Times without a date (a de-identification that keeps the times of day only: Dcm2Bids PR
    #370, a scan from 23:00 to 00:30) count from midnight, so 00:00:10 came before 23:59:50
    in acquisition order and time steps. When every time is undated and they leave a gap of
    more than 18 h (read across midnight they span less than 6 h, as a series does), the
    times before that gap follow the others.
    """
    times = sorted({f.time for f in frames if f.time is not None})
    if len(times) < 2 or times[-1] >= _DAY:
        return frames
    gap, last = max((b - a, a) for a, b in pairwise(times))
    if gap <= _DAY - _SPAN:
        return frames
    return [replace(f, time=f.time + _DAY) if f.time is not None and f.time <= last else f
            for f in frames]  # fmt: skip


def acquisition_order(f: FrameRef) -> tuple[float, int, str, int]:
    """Sort key of a frame by AcquisitionTime/ContentTime, InstanceNumber, file and frame."""
    return (f.time if f.time is not None else 0.0, f.instance_number or 0, f.source, f.frame)


def colocated_stacks(
    frames: list[FrameRef],
    group: list[int],
    dist: dict[int, float],
    places: list[int] | None = None,
) -> tuple[list[list[int]], str]:
    """The stacks of ``group`` (frame indices) and the key that told them apart.

    The key is one of :data:`~pipeline.dicom.frames.STACK_KEYS`, else two (``"A and B"``).
    ``dist`` is each frame's distance along the normal (mm). One stack, and ``""``, when no
    two frames share a position. A key whose values drift from position to position while
    every position holds the same number of frames (cardiac phases whose trigger delays
    shift from slice to slice) ranks the frames at each position by its value, as
    acquisition order does, instead of making one stack per value (single-slice volumes).
    ``places``: :func:`position_places` of ``group``, when the caller has them.
    """
    at: dict[int, list[int]] = defaultdict(list)
    places = position_places(frames, group, dist) if places is None else places
    for k, place in zip(group, places, strict=True):
        at[place].append(k)
    depth = max(len(v) for v in at.values())
    if depth == 1:
        return [list(group)], ""
    for keys in _KEY_SETS:
        value = {k: tuple(frames[k].stack_values[j] if frames[k].stack_values else None
                          for j in keys) for k in group}  # fmt: skip
        if any(None in v for v in value.values()):
            continue
        if len({(value[k], place) for place, found in at.items() for k in found}) < len(group):
            continue
        how = " and ".join(STACK_KEYS[j] for j in keys)
        by_value: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for k in group:
            by_value[value[k]].append(k)
        if len(by_value) > depth and all(len(found) == depth for found in at.values()):
            return _ranked(at, _by(value)), how
        if len(by_value) > depth and (drifting := _drifting(value, at)) is not None:
            stacks, unsure = rank_with_gaps(at, _by(value), drifting)
            if not unsure:  # else one stack per value, as before: nothing mixed
                return stacks, how
        if STACK_KEYS.index(DIRECTION) in keys:  # directions have no order: acquisition's
            first = {v: min(acquisition_order(frames[k]) for k in by_value[v]) for v in by_value}
            return [by_value[v] for v in sorted(by_value, key=first.__getitem__)], how
        return [by_value[v] for v in sorted(by_value, key=_sortable)], how
    stacks, unsure = rank_with_gaps(at, lambda k: acquisition_order(frames[k]),
                                    _acquired(frames, at))  # fmt: skip
    return stacks, _acquisition(frames, at, unsure)


def position_places(frames: list[FrameRef], group: list[int], dist: dict[int, float]) -> list[int]:
    """Each frame's position along the normal as a number (equal: co-located).

    Runs of values no more than :func:`same_position` apart (:func:`_clustered`), unless
    the positions are written to 0.1 mm and differ by their rounding
    (:func:`~pipeline.dicom.rounding.rounded_places`): time points whose written positions
    differ in the last digit were not co-located, so a 4-D series was split into 3-D
    volumes ("their positions differ") or stacked as one, its time points interpolated
    into each other as missing slices.
    """
    values = np.array([dist[k] for k in group])
    orientation = frames[group[0]].orientation
    if orientation is not None and all(frames[k].position is not None for k in group):
        positions = np.array([frames[k].position for k in group], dtype=np.float64)
        found = rounded_places(positions, values, geometry.slice_normal(orientation))
        if found is not None:
            return [int(v) for v in found]
    return _clustered(values, same_position(frames, group))


def _clustered(values: np.ndarray, same: float) -> list[int]:
    """Each value's place (0, 1, ... in order): a new one where the gap exceeds ``same``.

    Bins of ``same`` (``round(v / same)``) put two values a micrometre apart into two places
    when they straddled a bin's edge (5.125 and 5.125000001 mm: 512 and 513), so a repeated
    slice written with other decimals was a slice 1e-9 mm from its twin ("steps from 1e-09
    to 5 mm", the series refused).
    """
    order = np.argsort(values, kind="stable")
    starts = np.r_[0, np.diff(values[order]) > same].astype(np.int64)
    places = np.empty(len(values), dtype=np.int64)
    places[order] = np.cumsum(starts)
    return [int(v) for v in places]


def same_positions(frames: list[FrameRef], stacks: list[list[int]]) -> bool:
    """Whether every stack covers the first one's positions.

    Within the tolerance the step checks use (a fifth of a micrometre stack's step, so time
    points a slice apart differ), or the rounding of positions written to 0.1 mm (a
    coordinate can differ by that unit between two images at one position), while that is
    at most a fifth of the smallest step.
    """
    first = np.array([frames[k].position for k in stacks[0]])
    gaps = np.linalg.norm(np.diff(first, axis=0), axis=1) if len(first) > 1 else np.zeros(0)
    tol = step_tolerance(np.r_[0.0, np.cumsum(gaps)], POSITION_TOLERANCE)
    every = np.array([frames[k].position for s in stacks for k in s], dtype=np.float64)
    unit = position_unit(every)
    if unit and (not gaps.size or unit <= MAX_STEP_FRACTION * float(gaps.min())):
        tol = max(tol, unit + 1e-6)
    for s in stacks[1:]:
        other = np.array([frames[k].position for k in s])
        if other.shape != first.shape or np.abs(other - first).max() > tol:
            return False
    return True


def short_stacks(frames: list[FrameRef], stacks: list[list[int]]) -> str:
    """Which stacks hold fewer images than the largest, naming their files, else "".

    An image repeated at a slice position with other pixels (a re-scanned slice, an edited
    copy) is a stack of its own, a volume of one slice: the note names it by relative path,
    so a user can tell a repeat from a time point (a file of several frames with the
    frames, numbered from 1). At most three files are named.
    """
    most = max(len(s) for s in stacks)
    short = [s for s in stacks if len(s) < most]
    if not short:
        return ""
    sizes = sorted({len(s) for s in short})
    held = " or ".join(str(n) for n in sizes)
    held_frames: dict[str, list[int]] = defaultdict(list)
    for k in (k for s in short for k in s):
        held_frames[frames[k].source].append(frames[k].frame)
    # a multi-frame file (an Enhanced series is one file) is named with its frames (1-based)
    names = [escape_name(source) + (f" frames {', '.join(str(f + 1) for f in sorted(found))}"
                                    if max(found) > 0 else "")
             for source, found in sorted(held_frames.items())]  # fmt: skip
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return (f"{counted(len(short), 'volume')} of {held} "
            f"{'image' if sizes == [1] else 'images'} where the largest has {most}: "
            f"{', '.join(names[:3])}{more}")  # fmt: skip


def same_position(frames: list[FrameRef], group: list[int]) -> float:
    """How close (mm) along the normal frames of ``group`` are at one position.

    :data:`SAME_POSITION`, or a tenth of the smallest pixel spacing when that is smaller: a
    micro-CT's 9 um slices, binned by 0.01 mm, fell two to a bin here and there (0.036 and
    0.045 mm both round to 4), so neighbouring slices were taken for time points and the
    stack split into volumes of every other slice (GDCM PR #57: a fixed 0.01 mm).
    """
    pixels = [min(f.pixel_spacing) for k in group if (f := frames[k]).pixel_spacing]
    return min(SAME_POSITION, 0.1 * min(pixels)) if pixels else SAME_POSITION


def unplaced_slices(frames: list[FrameRef], stacks: list[list[int]]) -> str:
    """Why images at one position that say they are slices cannot be placed, else "".

    Stacks of one image each are images that share one ImagePositionPatient and that nothing
    but acquisition order tells apart: time points, unless their SliceLocation (0020,1041)
    values differ, which says they are slices whose position was not written per slice (a
    converter copying the first slice's, vtk-dicom #164), or, for frames of an Enhanced
    object whose only Plane Position is in its Shared Functional Groups, their
    InStackPositionNumber (0020,9057) values do (frames of one stack at different positions,
    PS3.3 C.7.6.16.2.2.4). They were written as one-slice "time points"; which slice lies
    where is unknown, so the series is refused.
    """
    if any(len(s) != 1 for s in stacks):
        return ""
    firsts = [frames[s[0]] for s in stacks]
    for name, places, unit in (
        ("SliceLocation (0020,1041)", [f.slice_location for f in firsts], " mm"),
        ("InStackPositionNumber (0020,9057)", [f.in_stack for f in firsts], ""),
    ):
        if None in places:
            continue
        found = sorted(round(float(v), 3) for v in places if v is not None)
        if len(set(found)) < len(found):
            continue
        return (f"{len(stacks)} images share one ImagePositionPatient (0020,0032) but their "
                f"{name} values differ ({found[0]:g} to {found[-1]:g}{unit}): positions not "
                "written per slice, so the slices cannot be placed")  # fmt: skip
    return ""


def _drifting(
    value: dict[int, tuple[Any, ...]], at: dict[int, list[int]]
) -> Callable[[int], float | None] | None:
    """A one-number key whose every value lies at one position, else ``None``.

    Cardiac phases' trigger delays shift from slice to slice: each image's number then.
    """
    where: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for place, found in at.items():
        for k in found:
            where[value[k]].add(place)
    if any(len(v) != 1 or not isinstance(v[0], float) for v in where) or any(
        len(p) > 1 for p in where.values()
    ):
        return None
    return lambda k: float(value[k][0])


def _acquired(frames: list[FrameRef], at: dict[int, list[int]]) -> Callable[[int], float | None]:
    """Each frame's acquisition time, else its InstanceNumber: numbers that grow with time.

    The first that tells apart the frames of every position; else ``None`` for each.
    """
    every = [k for found in at.values() for k in found]
    for read in (lambda k: frames[k].time, lambda k: frames[k].instance_number):
        if all(read(k) is not None for k in every) and all(
            len({read(k) for k in found}) == len(found) for found in at.values()
        ):
            return lambda k, read=read: None if (v := read(k)) is None else float(v)  # type: ignore[misc]
    return lambda k: None


def _acquisition(frames: list[FrameRef], at: dict[int, list[int]], unsure: int = 0) -> str:
    """How acquisition order told the frames apart, saying where it could not.

    Frames at one position with the same AcquisitionTime/ContentTime and InstanceNumber are
    ordered by file name, and frames of one file by frame number (the order it stores them
    in): which volume each joins is a guess, and, with several positions, a volume may take
    one frame's slice at one position and another frame's elsewhere. (The frames of one
    Enhanced file were said to be "ordered there by file name", which told nothing.)
    """
    tied = [found for found in at.values()
            if len({acquisition_order(frames[k])[:2] for k in found}) < len(found)]  # fmt: skip
    if unsure:
        most = max(len(found) for found in at.values())
        return (f"{_ACQUISITION[:-1]}; {counted(unsure, 'position')} holding fewer than "
                f"{most} images whose times do not show which volume lacks one: ranked "
                "there in order, so a volume may mix them)")  # fmt: skip
    if not tied:
        return _ACQUISITION
    one_file = all(len({frames[k].source for k in found}) == 1 for found in tied)
    how = "by frame number, the order their file stores them in" if one_file else "by file name"
    mix = ", so a volume may mix them" if len(at) > 1 else ""
    where = counted(len(tied), "position")
    return f"{_ACQUISITION[:-1]}, which tie at {where}: ordered there {how}{mix})"


def _ranked(at: dict[int, list[int]], order: Callable[[int], Any]) -> list[list[int]]:
    """Stack r holds the r-th frame of each position in ``order``."""
    rank: dict[int, list[int]] = defaultdict(list)
    for found in at.values():
        for r, k in enumerate(sorted(found, key=order)):
            rank[r].append(k)
    return [rank[r] for r in sorted(rank)]


def _by(value: dict[int, tuple[Any, ...]]) -> Callable[[int], Any]:
    return lambda k: _sortable(value[k])


def _sortable(values: tuple[Any, ...]) -> tuple[tuple[int, float, str], ...]:
    """Numbers before text, numbers by value (echo 10 after echo 2)."""
    return tuple((0, float(v), "") if isinstance(v, float) else (1, 0.0, str(v)) for v in values)
