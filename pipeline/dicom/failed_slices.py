"""A failed file of a series: a repeat that the series can do without, or a gap.

A file whose header names its series but whose image cannot be read (truncated pixel data,
say) made ``convert --per series`` refuse the whole series, even when it only repeated a
position that a readable slice of the series already holds (a resent or duplicated slice).
Such a repeat is left out now, and named, and so is a single image of a plane or size that
no readable image of the series shares (a localizer filed with the slices: its own volume,
which dcm2niix converts apart, the others whole), and a placed image whose SeriesNumber no
readable image of the series has (a series split by SeriesNumber, as dcm_qa_ts's nine
encodings of one scan: its own volume, so one truncated file no longer took the other eight
volumes with it); a failed file that is the only image at its
position (or one of fewer there than the series has elsewhere: a time point's slice) would
leave a gap, so its series is refused, as dcm2niix fails a series whose slice it cannot load
(``nii_loadImgXL`` returns NULL and the series is not written).

Pure functions on header facts: :func:`failed_place` reads where a failed file lies, and
:func:`repeated_slices` decides for the failed files of one series.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.dicom.files import Problem, escape_name
from pipeline.keys import hash_key


class Instance(Protocol):
    """The header facts used here (:class:`pipeline.dicom.header.Instance` has them)."""

    @property
    def path(self) -> str: ...
    @property
    def frames(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def columns(self) -> int: ...
    @property
    def position(self) -> tuple[float, float, float] | None: ...
    @property
    def orientation(self) -> tuple[float, ...] | None: ...
    @property
    def frame_refs(self) -> Sequence[Any]: ...


#: Two images are at one position within this distance (mm), as duplicates are.
SAME_POSITION = 0.01
#: Direction cosines of one orientation differ by at most this (as orientation groups).
SAME_ORIENTATION = 1e-4

#: Why a series is refused for a failed file (its refusal names the file first).
GAP_WHY = "a volume without it would have a gap (refused, as dcm2niix fails such a series)"
#: How a failed file left out of its series is said (the readable file's name follows).
REPEAT_WHY = "left out of its series: it repeats the position of"
#: How a failed image of its own plane or size is said.
ALONE_WHY = (
    "left out of its series: no readable image shares its orientation and size, so it was "
    "a volume of its own (a localizer?), not a slice of the others"
)

#: How a failed image of its own SeriesNumber is said.
NUMBER_WHY = (
    "left out of its series: no readable image shares its SeriesNumber, so it was a volume "
    "of its own (the series is split by SeriesNumber), not a slice of the others"
)


def gap_reason(problem: Problem) -> str:
    """Why a series cannot do without ``problem``'s file (to follow its name).

    ``""`` when the file's position is unknown (a volume could lack a slice, or not).
    """
    if not problem.place:
        return ""
    return f"whose place no readable image takes: {GAP_WHY}"


def failed_place(ds: Any) -> tuple[float, ...]:
    """Where a single-frame image lies: 11 numbers, or ``()`` (never raises).

    ImagePositionPatient, ImageOrientationPatient, Rows and Columns; ``()`` when any is
    missing or unreadable, or the file holds several frames.
    """
    try:
        if int(ds.get("NumberOfFrames") or 1) != 1:
            return ()
        position = [float(v) for v in ds.ImagePositionPatient]
        orientation = [float(v) for v in ds.ImageOrientationPatient]
        size = [float(ds.Rows), float(ds.Columns)]
    except Exception:
        return ()
    found = (*position, *orientation, *size)
    if len(position) != 3 or len(orientation) != 6 or not np.all(np.isfinite(found)):
        return ()
    return tuple(found)


def failed_series_number(ds: Any) -> int | None:
    """The SeriesNumber of a data set, ``None`` when absent or no whole number.

    Never raises.
    """
    from pipeline.dicom.frame_layout import optional_int

    try:
        return optional_int(ds.get("SeriesNumber"))
    except Exception:
        return None


def located(found: Problem, ds: Any) -> Problem:
    """``found`` (a file that failed) with the series, place and SeriesNumber ``ds`` gives."""
    return replace(found, series_key=_series_key(ds), place=failed_place(ds),
                   series_number=failed_series_number(ds))  # fmt: skip


def cut_short(path: str | Path, found: Problem) -> Problem:
    """A file cut short in its pixel data, :func:`located` by its header read up to them.

    An encapsulated stream without its end fails pydicom's whole reading, so such a file was
    of no series: its series was converted with the slice interpolated over, not refused as
    one whose native pixel data is short.
    """
    from pydicom import dcmread

    try:
        ds = dcmread(path, stop_before_pixels=True)
    except Exception:
        return found
    return located(found, ds)


def _series_key(ds: Any) -> str:
    """The hashed SeriesInstanceUID of a data set, ``""`` when it has none (or a bad one)."""
    try:
        uid = ds.get("SeriesInstanceUID")
        return hash_key(str(uid)) if uid else ""
    except Exception:
        return ""


def instance_number_of(inst: Instance) -> int | None:
    """The SeriesNumber of a file whose header was read (as its frames hold it)."""
    refs = inst.frame_refs
    return refs[0].series_number if refs else None


def instance_place(inst: Instance) -> tuple[float, ...]:
    """:func:`failed_place` of a file whose header was read (its pixels fail)."""
    if inst.frames != 1 or inst.position is None or inst.orientation is None:
        return ()
    return (*inst.position, *inst.orientation, float(inst.rows), float(inst.columns))


def repeated_slices(
    failed: Sequence[Problem], instances: Sequence[Instance]
) -> tuple[dict[str, str], Problem | None]:
    """Which failed files of a series its volumes can do without, and why.

    Returns ``({failed file: why it is left out}, None)`` when every failed file can be
    left out, so the series can be assembled without them; else the first failed file that
    cannot (its absence would be a gap) as the second item.

    A failed file repeats a position when a readable single-frame image of its orientation
    and size lies within :data:`SAME_POSITION` of it, and that position holds at least as
    many readable images as any other of that orientation (so no time point or echo lacks
    the slice without it), of which there are several (images all at one position, such as
    a mosaic fMRI's, are time points, never repeats): :data:`REPEAT_WHY` and that image's
    name. A failed file whose
    orientation and size no readable image shares, every one of them a placed single frame,
    was a volume of its own: :data:`ALONE_WHY`.
    """
    gone = {p.where for p in failed}  # a file failing on its pixels is an instance too
    instances = [i for i in instances if i.path not in gone]
    repeats: dict[str, str] = {}
    for problem in failed:
        found = _own_number(problem, instances) or _repeat_of(problem.place, instances)
        if found is None:
            return repeats, problem
        repeats[problem.where] = found
    return repeats, None


def incomplete_notes(failed: Sequence[Problem], instances: Sequence[Instance]) -> list[str]:
    """What ``inspect`` says of a series with failed files: what convert will do."""
    repeats, gap = repeated_slices(failed, instances)
    if gap is not None:
        why = "".join(f"{w}, " for w in [gap_reason(gap)] if w)
        name = escape_name(gap.where)
        return [f"incomplete: {name} of this series failed, {why}so convert --per series "
                "refuses it"]  # fmt: skip
    return [
        f"incomplete: {escape_name(bad)} of this series failed, {why}, so convert --per "
        "series converts the series without it"
        for bad, why in repeats.items()
    ]


def _own_number(problem: Problem, instances: Sequence[Instance]) -> str | None:
    """:data:`NUMBER_WHY` for a placed failed file of a SeriesNumber no readable image has.

    Every readable image must be placed and have a SeriesNumber (the series is then split
    by SeriesNumber, :func:`pipeline.dicom.assemble.plan_series`); else ``None``.
    """
    if len(problem.place) != 11 or problem.series_number is None or not instances:
        return None
    numbers = [instance_number_of(i) for i in instances]
    placed = all(i.position is not None and i.orientation is not None for i in instances)
    if not placed or None in numbers or problem.series_number in numbers:
        return None
    return NUMBER_WHY


def _repeat_of(place: tuple[float, ...], instances: Sequence[Instance]) -> str | None:
    if len(place) != 11:
        return None
    position, orientation = np.asarray(place[:3]), np.asarray(place[3:9])
    same = [
        i for i in instances
        if i.frames == 1 and i.position is not None and i.orientation is not None
        and (i.rows, i.columns) == place[9:]
        and np.allclose(i.orientation, orientation, rtol=0, atol=SAME_ORIENTATION)
    ]  # fmt: skip
    if not same:
        placed = all(i.frames == 1 and i.position is not None and i.orientation is not None
                     for i in instances)  # fmt: skip
        return ALONE_WHY if placed else None
    positions = np.asarray([i.position for i in same], dtype=np.float64)
    here = np.linalg.norm(positions - position, axis=1) <= SAME_POSITION
    if not here.any():
        return None
    counts = Counter(map(tuple, np.round(positions / SAME_POSITION).astype(np.int64).tolist()))
    if len(counts) < 2:  # all at one position (mosaics, a one-slice time series): a time point?
        return None
    if int(here.sum()) < max(counts.values()):
        return None  # fewer images here than elsewhere: without it a stack lacks a slice
    return f"{REPEAT_WHY} {escape_name(min(i.path for i, at in zip(same, here) if at))}"


__all__ = [
    "ALONE_WHY",
    "GAP_WHY",
    "NUMBER_WHY",
    "REPEAT_WHY",
    "SAME_POSITION",
    "cut_short",
    "failed_place",
    "failed_series_number",
    "gap_reason",
    "incomplete_notes",
    "instance_number_of",
    "instance_place",
    "located",
    "repeated_slices",
]
