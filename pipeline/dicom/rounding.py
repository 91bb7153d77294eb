"""Slice positions written coarsely: what their rounding can account for.

ImagePositionPatient (0020,0032) is a Decimal String, and some writers keep one decimal (or
none): GE's float32 positions, exporters and anonymisers that print ``%.1f``. An evenly
spaced stack of 0.625 mm slices written to 0.1 mm reads as steps of 0.6 and 0.7 mm, and an
oblique stack's in-plane origins wander by up to 0.1 mm per coordinate. Taken at face value
the first was resampled onto a 0.6 mm grid (more slices, every one interpolated) and the
second "tilt corrected" by 0.0 degrees, each slice shifted in-plane (dcm2niix #216, #325:
positions "stored in low precision ... rounding errors when estimating slice distance").
This module tells how far the rounding can move a position, so that
:mod:`pipeline.dicom.stack` takes such a stack for what it is.
"""

from __future__ import annotations

import numpy as np

#: Decimal units (mm) a stack's positions may be rounded to; finer rounding is within
#: :data:`~pipeline.dicom.volume_plan.POSITION_TOLERANCE` already. Not whole millimetres:
#: positions that are all whole (2 mm slices from 0) would lend every stack 1 mm of
#: "rounding", in which a real tilt or gap of 1 mm would pass unsaid.
UNITS = (0.1,)

#: Rounding is taken into account only while it is at most this fraction of every step
#: between two slices, so a missing slice is never within it.
MAX_STEP_FRACTION = 0.2


def position_unit(positions: np.ndarray) -> float:
    """The coarsest of :data:`UNITS` that every coordinate is a multiple of, else 0.

    ``positions`` is ``(K, 3)``; float32 noise aside (``98.099998`` is 98.1).

    Examples
    --------
    >>> position_unit(np.array([[0.0, 0.0, -100.0], [0.0, 0.0, -99.4]]))
    0.1
    >>> position_unit(np.array([[0.0, 0.0, -100.0], [0.0, 0.0, -99.375]]))
    0.0
    """
    for unit in UNITS:
        scaled = positions / unit
        if float(np.abs(scaled - np.rint(scaled)).max()) <= 1e-3:
            return unit
    return 0.0


def rounding_error(unit: float, positions: np.ndarray, *directions: np.ndarray) -> float:
    """How far rounding each coordinate to ``unit`` moves a difference of two positions.

    Along one unit vector ``d`` that is ``unit * |d|_1`` over the coordinates that vary
    among ``positions`` ``(K, 3)`` (one that is the same in every slice, such as a tilted
    CT's x and y, is rounded alike in all); with two (a plane's row and column), the length
    of the in-plane error over both.
    """
    varying = np.ptp(positions, axis=0) > 1e-6
    parts = np.array([unit * float(np.abs(d[varying]).sum()) for d in directions])
    return float(np.sqrt(parts @ parts))


def even_fit(
    rel: np.ndarray, error: float, index: np.ndarray | None = None
) -> tuple[float, float] | None:
    """``(offset, step)`` of an even grid that rounding by ``error`` explains, else ``None``.

    Every distance ``rel[k]`` (mm along the normal, sorted) is within ``error / 2`` of
    ``offset + index[k] * step`` (``index`` the slices' places on the grid, default
    ``0, 1, 2, ...``; ``error`` is :func:`rounding_error`, the most a difference of two
    rounded positions is off; each is off by half of it), and ``error`` is at most
    :data:`MAX_STEP_FRACTION` of every step. The grid is the minimax (Chebyshev) line.
    """
    count = len(rel)
    if count < 3 or error <= 0 or error > MAX_STEP_FRACTION * float(np.diff(rel).min()):
        return None
    from scipy.optimize import linprog  # 0.3-3 s to import: only for coarse positions

    k = np.arange(count, dtype=np.float64) if index is None else index.astype(np.float64)
    ones = np.ones(count)
    # variables (offset, step, t): minimise t with |rel - offset - step k| <= t
    found = linprog(
        c=[0.0, 0.0, 1.0],
        A_ub=np.vstack([np.c_[-ones, -k, -ones], np.c_[ones, k, -ones]]),
        b_ub=np.r_[-rel, rel],
        bounds=[(None, None), (None, None), (0, None)],
        method="highs",
    )
    if not found.success:
        return None
    offset, step, worst = (float(v) for v in found.x)
    if step <= 0 or worst > error / 2 + 1e-6:
        return None
    return offset, step


def rounded_grid(
    positions: np.ndarray, rel: np.ndarray, normal: np.ndarray, header: float | None = None
) -> np.ndarray | None:
    """The distances of a stack whose positions are written to a coarse unit, on its grid.

    ``positions`` ``(K, 3)``, their distances ``rel`` along ``normal`` (sorted, from the
    first slice). Each slice is given its place on the even grid its rounded distances stand
    for, missing slices included (a gap of two steps leaves one place empty): the grid's
    distances of the slices, evenly spaced but for such gaps. ``None`` when the positions
    are written finer than :data:`UNITS`, or no grid is within their rounding.

    Many steps can be within the rounding (ten 0.625 mm slices written to 0.1 mm fit any
    step from 0.625 to 0.633 mm); ``header``, the step the header gives
    (SpacingBetweenSlices, else SliceThickness), is taken when it is one of them, else the
    minimax step (:func:`even_fit`): the minimax alone made that stack 0.6286 mm.
    """
    unit = position_unit(positions)
    if not unit or len(rel) < 3:
        return None
    error = rounding_error(unit, positions, normal)
    steps = np.diff(rel)
    single = steps[steps < 1.5 * steps.min()]  # steps of one slot: their mean is the guess
    offset, step = 0.0, float(single.mean())
    for _ in range(3):  # then the grid's own step, until the slots stay
        index = np.r_[0.0, np.cumsum(np.rint(steps / step))]
        fit = even_fit(rel, error, index)
        if fit is None:
            return None
        (offset, found), step = fit, step
        if found == step:
            break
        step = found
    if header is not None and (fit := _header_fit(rel, error, index, header)) is not None:
        offset, step = fit
    return offset + step * index


def _header_fit(
    rel: np.ndarray, error: float, index: np.ndarray, step: float
) -> tuple[float, float] | None:
    """``(offset, step)`` for a given step that the rounding explains, else ``None``.

    Every ``rel[k]`` is within ``error / 2`` of ``offset + index[k] * step`` (offset the
    middle of those that do).
    """
    left = rel - step * index
    low, high = float(left.max()) - error / 2, float(left.min()) + error / 2
    return ((low + high) / 2, step) if low <= high + 1e-9 else None


def in_plane_rounding(positions: np.ndarray, orientation: np.ndarray) -> float:
    """How far rounding can move one slice's in-plane origin from another's (mm).

    0 for positions written finer than :data:`UNITS`; ``orientation`` is
    ImageOrientationPatient.
    """
    unit = position_unit(positions)
    return rounding_error(unit, positions, orientation[:3], orientation[3:]) if unit else 0.0


def line_rounding(positions: np.ndarray) -> float:
    """How far rounding can move a slice from the line through the first and last (mm).

    ``unit * sqrt(n)`` for ``n`` coordinates that vary (each position off by half the unit
    in each, the line's ends too); 0 when written finer, and never over
    :data:`MAX_STEP_FRACTION` of the smallest step between slices.
    """
    unit = position_unit(positions)
    if not unit or len(positions) < 3:
        return 0.0
    varying = int(np.count_nonzero(np.ptp(positions, axis=0) > 1e-6))
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    return min(unit * float(np.sqrt(varying)), MAX_STEP_FRACTION * float(steps.min()))


def rounded_places(
    positions: np.ndarray, dist: np.ndarray, normal: np.ndarray
) -> np.ndarray | None:
    """Each image's place along ``normal`` (0, 1, ...) as rounding to 0.1 mm may tell it.

    ``None`` unless the rounding of positions written to a coarse unit makes images a
    little apart one position.

    ``positions`` ``(K, 3)``, ``dist`` their distances along ``normal``. Images of one
    position (time points, echoes) written to 0.1 mm can differ in the last digit (a
    coordinate near x.x5 rounded one way in one time point and the other way in the next):
    their distances then differ by up to :func:`rounding_error`. Sorted distances within it
    of each other are one place, so long as every place spans no more than it and places
    are at least ``1 / MAX_STEP_FRACTION`` times it apart (a 0.625 mm stack: 0.1 mm is
    rounding, 0.6 mm a slice); ``None`` for positions written finer, or places that are
    not so clearly apart.
    """
    unit = position_unit(positions)
    if not unit or len(dist) < 2:
        return None
    tol = rounding_error(unit, positions, normal) + 1e-6
    order = np.argsort(dist, kind="stable")
    ranked = dist[order]
    new = np.diff(ranked) > tol
    if not new.any() or tol > MAX_STEP_FRACTION * float(np.diff(ranked)[new].min()):
        return None
    sorted_places = np.r_[0, np.cumsum(new)]
    starts = ranked[np.r_[0, np.flatnonzero(new) + 1]]
    if float((ranked - starts[sorted_places]).max()) > tol:  # a chain, not one position
        return None
    places = np.empty(len(dist), dtype=np.int64)
    places[order] = sorted_places
    return places
