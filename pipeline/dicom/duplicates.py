"""Repeated images of one series: which frames sit at one place, and which repeat another.

Used by :func:`pipeline.dicom.assemble.plan_series` (step 1) and by
:func:`pipeline.dicom.volume.load_series`, which takes pixel digests of the frames that share
a place. A place is compared within a tolerance, never by rounding: positions written with
other decimals ("-0.125" and "-0.125000001") fell into two bins of 0.01 mm, so an image
repeated with identical pixels was kept as a second "time point" of one slice.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from pipeline.dicom.files import escape_name
from pipeline.dicom.frames import FrameRef
from pipeline.words import counted

__all__ = ["SAME_PLACE", "drop_duplicates", "shared_places"]

#: Frames closer than this (mm, 3-D) are at one place, or closer than a tenth of their
#: smallest pixel spacing when that is less (a micro-CT's 9 um pixels): the bound
#: :func:`pipeline.dicom.colocated.same_position` puts on co-located slices. dcm2niix takes
#: two positions as one when their float32 coordinates are equal.
SAME_PLACE = 0.01
#: Largest difference of direction cosines, and of pixel spacings (mm), at one place.
SAME_COSINE, SAME_SPACING = 1e-4, 1e-4
#: How many repeated files a note names before it counts the rest.
NAMED = 3


def shared_places(frames: list[FrameRef]) -> list[bool]:
    """Whether each frame may share its place with another (only those can be duplicates).

    A frame within :data:`SAME_PLACE` of the position of another with its stack values and
    SeriesNumber, or without a position when such another has none either: a superset of
    :func:`same_place`, found in ``O(n log n)`` (an fMRI series holds hundreds of time
    points at each position, told apart by their stack values).
    """
    shared = [False] * len(frames)
    alike: dict[tuple[object, ...], list[int]] = {}
    for k, f in enumerate(frames):
        alike.setdefault((f.stack_values, f.series_number, f.position is None), []).append(k)
    for (*_, unplaced), members in alike.items():
        if len(members) < 2:
            continue
        if unplaced:
            for k in members:
                shared[k] = True
            continue
        tree = cKDTree(np.array([frames[k].position for k in members], dtype=np.float64))
        found, _ = tree.query(tree.data, k=2, distance_upper_bound=SAME_PLACE)
        for k, distance in zip(members, found[:, 1], strict=True):
            shared[k] = bool(np.isfinite(distance))
    return shared


def same_place(a: FrameRef, b: FrameRef) -> bool:
    """Whether two frames sit at one place with one geometry and one stack (time point, echo).

    Position within :data:`SAME_PLACE` (or a tenth of the pixel spacing), direction cosines
    within :data:`SAME_COSINE`, pixel spacing within :data:`SAME_SPACING`, the same stack
    values and SeriesNumber (edited copies keep their UIDs under new numbers).
    """
    if a.stack_values != b.stack_values or a.series_number != b.series_number:
        return False
    if (a.position is None) != (b.position is None):
        return False
    if a.position is not None and b.position is not None:
        spacings = [min(s) for s in (a.pixel_spacing, b.pixel_spacing) if s]
        tol = min([SAME_PLACE, *(0.1 * s for s in spacings)])
        if float(np.linalg.norm(np.subtract(a.position, b.position))) > tol:
            return False
    return _close(a.orientation, b.orientation, SAME_COSINE) and _close(
        a.pixel_spacing, b.pixel_spacing, SAME_SPACING
    )


def drop_duplicates(frames: list[FrameRef], notes: list[str]) -> list[int]:
    """The frames to keep (indices, in (source, frame) order); notes name what was dropped.

    A frame repeats an earlier kept one at its place (:func:`same_place`) when its pixels
    are identical (digests, when known), or when it is the same SOPInstanceUID and frame
    whose pixels, when known, agree too (edited copies keep their UIDs: dcm_qa_12bit). The
    note names the repeating files and the files they repeat, by relative path.
    """
    order = sorted(range(len(frames)), key=lambda k: (frames[k].source, frames[k].frame))
    kept: dict[tuple[object, ...], list[int]] = {}  # candidates by pixels, by instance
    keep: list[int] = []
    repeats: dict[bool, dict[tuple[str, str], None]] = {True: {}, False: {}}
    counts = {True: 0, False: 0}
    for k in order:
        f = frames[k]
        keys = [("sop", f.sop_uid, f.frame, f.digest)] + (
            [("pixels", f.digest)] if f.digest else []
        )
        first = next((j for key in keys for j in kept.get(key, ()) if same_place(f, frames[j])),
                     None)  # fmt: skip
        if first is None:
            for key in keys:
                kept.setdefault(key, []).append(k)
            keep.append(k)
            continue
        placed = f.position is not None
        counts[placed] += 1
        repeats[placed][(f.source, frames[first].source)] = None
    if counts[True]:
        notes.append(f"duplicates dropped: {counted(counts[True], 'image')} repeated at the "
                     f"same position ({_named(repeats[True])})")  # fmt: skip
    if counts[False]:  # no position to repeat: the same pixels (or the same instance) again
        notes.append(f"duplicates dropped: {counted(counts[False], 'image')} without a "
                     "position repeating another image's pixels or SOPInstanceUID "
                     f"({_named(repeats[False])})")  # fmt: skip
    return keep


def _named(pairs: dict[tuple[str, str], None]) -> str:
    """``a.dcm as b.dcm, c.dcm as d.dcm and 3 more`` (files, relative paths)."""
    found = [f"{escape_name(s)} as {escape_name(o)}" if s != o else f"in {escape_name(s)}"
             for s, o in pairs]  # fmt: skip
    more = len(found) - NAMED
    return ", ".join(found[:NAMED]) + (f" and {more} more" if more > 0 else "")


def _close(a: tuple[float, ...] | None, b: tuple[float, ...] | None, tol: float) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and float(np.max(np.abs(np.subtract(a, b)))) <= tol
