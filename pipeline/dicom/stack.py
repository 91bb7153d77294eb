"""Geometry of one stack of parallel slices: even, uneven, sheared; the affine of its volume.

Used by :mod:`pipeline.dicom.assemble`. A stack's slices are sorted along the normal ``n``;
slice k sits at ImagePositionPatient ``P_k`` with distance ``d_k = P_k . n``. The volume's
affine puts slice k at ``P_0 + (d_k - d_0) n`` (orthogonal grid) or at ``P_0 + k s`` (sheared
grid, ``s`` the mean slice-to-slice vector); wherever that misses ``P_k`` by more than
:data:`~pipeline.dicom.volume_plan.POSITION_TOLERANCE`, the tilt or uneven-spacing policy decides.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.files import escape_name
from pipeline.dicom.geometry import tilt_cosine
from pipeline.dicom.rounding import in_plane_rounding, line_rounding, rounded_grid
from pipeline.dicom.volume_plan import POSITION_TOLERANCE, VolumePlan, _Refused
from pipeline.words import counted

#: Resampling along the normal may add at most this many times the slices it had.
MAX_RESAMPLE_FACTOR = 8


def plan_positions(
    frames: list[Any], stack: list[int], normal: np.ndarray, policy: Any
) -> list[Any]:
    """Volumes for one stack (indices into ``frames``, sorted along ``normal``).

    Raises
    ------
    pipeline.dicom.volume_plan._Refused
        When the policy says ``refuse`` for what this stack needs.
    """
    positions = np.array([frames[k].position for k in stack], dtype=np.float64)  # (K, 3)
    rel = (positions - positions[0]) @ normal  # (K,) mm along the normal
    spacing = frames[stack[0]].pixel_spacing
    blocks = in_plane_blocks(positions, rel, normal, 0.5 * min(spacing) if spacing else 0.0)
    if blocks is not None:
        note = (f"split: {len(blocks)} blocks of slices placed apart in-plane (their origins "
                f"differ by up to {_block_gap(positions, rel, normal, blocks):.3g} mm, not in "
                "proportion to their distance as a gantry tilt's), one volume each")  # fmt: skip
        return [_with_problem(v, note) for b in blocks
                for v in plan_positions(frames, [stack[i] for i in b], normal, policy)]  # fmt: skip
    runs = [list(range(len(stack)))]
    raw, rel = rel, _distances(positions, rel, normal, frames[stack[0]].slice_step)
    near = ""
    if stray := near_duplicates(frames, stack, rel, policy.uneven):
        if stray[0]:  # left out whatever the policy: a stray slice is no uneven spacing
            kept = [k for k in stack if k not in stray[0]]
            volumes = plan_positions(frames, kept, normal, policy)
            return [_with_problem(v, stray[1]) for v in volumes]
        near = stray[1]  # --uneven split, which slice belongs unknown: said first
    if not _even(rel, POSITION_TOLERANCE):
        what = describe_steps(rel)
        if policy.uneven == "refuse":
            raise _Refused(f"{what} (--uneven refuse)")
        if policy.uneven == "split":
            runs = even_runs(rel, POSITION_TOLERANCE)
    volumes = [_run_volume(frames, [stack[i] for i in run], positions[run],
                           rel[run] - raw[run[0]], normal, policy) for run in runs]  # fmt: skip
    if len(runs) > 1:
        note = f"split: {describe_steps(rel)}, {len(runs)} evenly spaced volumes"
        volumes = [_with_problem(v, note) for v in volumes]
    if near:
        volumes = [_with_problem(v, near) for v in volumes]
    return volumes


#: A slice nearer another than this fraction of the stack's usual (median) step is a
#: repeated or stray slice, not a finer spacing: resampled to that step, 5 slices 3 mm apart
#: and one 0.3 mm from its neighbour became 31 of 0.3 mm (and at 0.03 mm the series was
#: refused as 300 "missing slices"). dcm2niix lets steps vary by 0.2 mm (kSliceTolerance)
#: and never resamples to more than twice the slices.
NEAR_FRACTION = 0.2


def near_duplicates(
    frames: list[Any], stack: list[int], rel: np.ndarray, uneven: str = "resample"
) -> tuple[set[int], str] | None:
    """The stray slices of near-duplicate positions to leave out, and the note; ``None``.

    ``None`` when no step is under :data:`NEAR_FRACTION` of the median step, or there are
    fewer than 3 steps (of two, neither is the usual one: slices at 0, 1 and 21 mm are
    resampled as ever). Of each near pair, the slice without which the others are evenly
    spaced (the nearer to even, where both are within tolerance) is left out, named. When
    neither is, or both equally, which one belongs is unknown and the series is refused
    (:class:`~pipeline.dicom.volume_plan._Refused`), naming both files; under ``uneven``
    ``"split"`` that is no refusal but ``(set(), note)``: the runs are split, the note first.
    Under ``"refuse"`` a stray is never left out: the series is refused, naming it.

    A stray was looked for under ``--uneven resample`` only: under ``split`` and ``refuse``
    the series was split around it, or refused, as "5 gaps of up to 3 mm in a 0.02 mm spacing
    (about 744 slices missing)", the stray slice unnamed.
    """
    steps = np.diff(rel)
    usual = float(np.median(steps)) if len(rel) > 3 else 0.0  # 2 steps: no usual one
    pairs = [i for i, step in enumerate(steps) if step < NEAR_FRACTION * usual]
    if not pairs:
        return None
    drop: set[int] = set()
    for i in pairs:
        off = {j: _unevenness(np.delete(rel, sorted(drop | {j}))) for j in (i, i + 1)}
        best = min(off, key=lambda j: off[j])
        if off[best] > 0 or abs(off[i] - off[i + 1]) <= 1e-6:
            a, b = (escape_name(frames[stack[j]].source) for j in (i, i + 1))
            said = (f"near-duplicate positions: {a} and {b} lie {steps[i]:.3g} mm apart where "
                    f"the slices are {usual:.3g} mm apart (a repeated or stray slice, not a "
                    "finer spacing)")  # fmt: skip
            if uneven == "split":
                return set(), f"{said}: which one belongs is unknown"
            raise _Refused(f"{said}: remove one, or use --uneven split"
                           if uneven == "resample" else f"{said} (--uneven refuse)")  # fmt: skip
        drop.add(best)
    named = [f"{escape_name(frames[stack[j]].source)} "
             f"({float(np.min(np.abs(np.delete(rel, j) - rel[j]))):.3g} mm from another)"
             for j in sorted(drop)]  # fmt: skip
    if uneven == "refuse":
        raise _Refused(f"near-duplicate positions: {', '.join(named)}, off the evenly spaced "
                       "grid of the others (a repeated or stray slice, left out only under "
                       "--uneven resample or split) (--uneven refuse)")  # fmt: skip
    kept = np.delete(rel, sorted(drop))
    grid = float(kept[-1] - kept[0]) / (len(kept) - 1)
    return {stack[j] for j in drop}, (
        f"near-duplicate positions: {counted(len(drop), 'slice')} left out, off the "
        f"{grid:.3g} mm grid of the others: {', '.join(named)}"
    )


def _unevenness(rel: np.ndarray) -> float:
    """How far ``rel`` is from evenly spaced, less the tolerance (mm): ``<= 0`` is even."""
    line = np.linspace(float(rel[0]), float(rel[-1]), len(rel))
    deviation = float(np.abs(rel - line).max())
    return deviation - step_tolerance(rel, POSITION_TOLERANCE)


def _in_plane(positions: np.ndarray, rel: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """``(K, 3)``: each slice's position relative to the first, less its part along ``normal``."""
    return (positions - positions[0]) - np.outer(rel, normal)


def in_plane_blocks(
    positions: np.ndarray, rel: np.ndarray, normal: np.ndarray, pixel: float = 0.0
) -> list[list[int]] | None:
    """Runs of slices (sorted along ``normal``) of one in-plane origin, when the stack is such.

    A gantry tilt shears a stack: each slice's in-plane offset is in proportion to its
    distance along the normal, and the tilt policy shifts it back. Offsets that are not (a
    block of slices whose origin jumps, then stays: two geometries filed in one series, such
    as a brain and a spinal-cord block, dcm2niix #1009) are no tilt: shifted as one, a block
    whose origin is 50 mm away left the field of view, and the 'tilt' note named an angle
    the scanner never had. Such a stack is blocks of slices of one origin each (in order
    along the normal, interleaved or not); ``None`` when the offsets are nil, a tilt's, or
    differ at every slice. Departures from a tilt's line under ``pixel`` mm (half a pixel:
    positions rounded to 0.1 mm on a tilted CT) are rounding, not blocks.
    """
    tol = max(POSITION_TOLERANCE, pixel)
    offsets = _in_plane(positions, rel, normal)
    if len(rel) < 2 or float(np.linalg.norm(offsets, axis=1).max()) <= tol:
        return None
    squares = float(rel @ rel)
    slope = (rel @ offsets) / squares if squares > 0 else np.zeros(3)
    if float(np.linalg.norm(offsets - np.outer(rel, slope), axis=1).max()) <= tol:
        return None  # in proportion to the distance: a tilt
    blocks: list[list[int]] = []
    for k, offset in enumerate(offsets):
        home = next((b for b in blocks if np.linalg.norm(offsets[b[0]] - offset) <= tol),
                    None)  # fmt: skip
        if home is None:
            blocks.append([k])
        else:
            home.append(k)
    return blocks if len(blocks) < len(rel) else None  # else a new origin at every slice


def _block_gap(
    positions: np.ndarray, rel: np.ndarray, normal: np.ndarray, blocks: list[list[int]]
) -> float:
    offsets = _in_plane(positions, rel, normal)
    firsts = offsets[[b[0] for b in blocks]]
    return float(np.linalg.norm(firsts - firsts[0], axis=1).max())


def _with_problem(volume: Any, problem: str) -> Any:
    from dataclasses import replace

    return replace(volume, problems=(problem, *volume.problems))


def _distances(
    positions: np.ndarray, rel: np.ndarray, normal: np.ndarray, header: float | None = None
) -> np.ndarray:
    """Distances along the normal as the volume takes them (the rounded grid: found once).

    ``rel``, or for positions written coarsely those of the even grid they stand for
    (:mod:`pipeline.dicom.rounding`), whose step is ``header`` (the header's slice step)
    when that is within the rounding.
    """
    if _even(rel, POSITION_TOLERANCE):
        return rel
    found = rounded_grid(positions, rel, normal, header)
    return rel if found is None else found


def _even(rel: np.ndarray, tol: float) -> bool:
    if len(rel) < 3:
        return True
    line = np.linspace(float(rel[0]), float(rel[-1]), len(rel))
    return float(np.abs(rel - line).max()) <= step_tolerance(rel, tol)


def step_tolerance(rel: np.ndarray, tol: float) -> float:
    """``tol`` (mm), or a fifth of the smallest step when that is smaller.

    An absolute 0.05 mm is nothing beside clinical steps (0.5-5 mm) but half a slice of a
    micro-CT's 20 um stack (Bruker and other preclinical scanners write DICOM at 5-50 um):
    a missing slice there was within it, so the stack was taken for evenly spaced, the
    volume's step was wrong and its slices were misplaced, unsaid (GDCM PR #57: a fixed 0.01
    mm in position matching). Clinical stacks keep 0.05 mm.
    """
    steps = np.diff(rel)
    steps = steps[steps > 0]
    return min(tol, 0.2 * float(steps.min())) if steps.size else tol


def describe_steps(rel: np.ndarray) -> str:
    """``"missing slices: 1 gap of 2 mm (step 1 mm)"`` or ``"uneven slice spacing: ..."``."""
    steps = np.diff(rel)
    step = float(steps.min())
    ratio = steps / step
    if np.all(np.abs(ratio - np.rint(ratio)) < 0.05):
        gaps = steps[np.rint(ratio) > 1]
        missing = int(np.sum(np.rint(gaps / step) - 1))
        return (f"missing slices: {counted(int(gaps.size), 'gap')} of up to {gaps.max():.3g} mm "
                f"in a {step:.3g} mm spacing (about {counted(int(missing), 'slice')} "
                "missing)")  # fmt: skip
    return f"uneven slice spacing: steps from {step:.3g} to {steps.max():.3g} mm"


def even_runs(rel: np.ndarray, tol: float) -> list[list[int]]:
    """Split sorted distances into consecutive runs of equal steps (each run >= 1 slice)."""
    runs: list[list[int]] = [[0]]
    tol = step_tolerance(rel, tol)
    for k in range(1, len(rel)):
        run = runs[-1]
        if len(run) < 2 or abs((rel[k] - rel[run[-1]]) - (rel[run[1]] - rel[run[0]])) <= tol:
            run.append(k)
        else:
            runs.append([k])
    return runs


def _run_volume(
    frames: list[Any],
    members: list[int],
    positions: np.ndarray,
    distances: np.ndarray,
    normal: np.ndarray,
    policy: Any,
) -> Any:
    """One evenly spaced (or to be resampled) run of slices -> a :class:`VolumePlan`.

    ``distances`` are the slices' along ``normal`` from the run's first position, as the
    whole stack's :func:`_distances` gave them (a run's own rounded grid, found again from
    its few slices, could disagree with the stack's: two slices have none).
    """
    ref = frames[members[0]]
    iop = np.asarray(ref.orientation, dtype=np.float64)
    row_spacing, col_spacing = (float(v) for v in ref.pixel_spacing)
    rel = (positions - positions[0]) @ normal
    offsets = _in_plane(positions, rel, normal)  # (K, 3) in-plane parts
    problems: list[str] = []
    shifts = None
    column = None
    in_plane = max(POSITION_TOLERANCE, in_plane_rounding(positions, iop))
    if float(np.linalg.norm(offsets, axis=1).max(initial=0.0)) > in_plane:
        angle = tilt_angle(positions, normal)
        if policy.tilt == "refuse":
            raise _Refused(f"gantry tilt / sheared slices: {angle:.1f} degrees (--tilt refuse)")
        if policy.tilt == "keep":
            column = _sheared_step(positions, max(POSITION_TOLERANCE, line_rounding(positions)))
            if column is None:
                raise _Refused(f"gantry tilt {angle:.1f} degrees with uneven or non-collinear "
                               "slices: --tilt keep needs an even sheared stack")  # fmt: skip
            problems.append(f"tilt kept: {angle:.1f} degrees, sheared affine (NIfTI sform only)")
        else:
            shifts = tuple((float(o @ iop[3:] / row_spacing), float(o @ iop[:3] / col_spacing))
                           for o in offsets)  # fmt: skip
            problems.append(f"tilt corrected: {angle:.1f} degrees, slices resampled in-plane "
                            "onto an orthogonal grid")  # fmt: skip
    grid = None
    rel = distances
    extent = float(rel[-1] - rel[0]) if len(rel) > 1 else 0.0
    if len(rel) > 1 and not _even(rel, POSITION_TOLERANCE):
        grid = _grid(rel)
        problems.append(f"resampled: {describe_steps(rel)}, {len(rel)} slices -> {len(grid)} "
                        f"of {extent / (len(grid) - 1):.4g} mm along the normal")  # fmt: skip
    count = len(grid) if grid is not None else len(rel)
    step = extent / (count - 1) if count > 1 else float(ref.slice_step or 1.0)
    problems += [n for n in [spacing_note([frames[k].between for k in members], step)] if n]
    affine = np.eye(4)
    affine[:3, 0] = iop[:3] * col_spacing
    affine[:3, 1] = iop[3:] * row_spacing
    affine[:3, 2] = normal * step if column is None else column
    affine[:3, 3] = positions[0] + rel[0] * normal  # rel[0] is 0 unless rounding was removed
    return VolumePlan(
        frames=(tuple(members),),
        distances=tuple(float(v) for v in rel),
        affine=affine,
        spacing=(float(np.linalg.norm(affine[:3, 2])), row_spacing, col_spacing),
        grid=grid,
        shifts=shifts,
        sheared=column is not None,
        problems=tuple(problems),
    )


#: SpacingBetweenSlices differs from the positions' step by more than this (mm) and more
#: than :data:`SPACING_RATIO` of the step: said (DS values rounded to 0.01 mm stay unsaid).
SPACING_TOLERANCE, SPACING_RATIO = 0.01, 0.01


def spacing_note(between: list[float | None], step: float) -> str:
    """The note for a stack whose SpacingBetweenSlices disagrees with its positions' step.

    The volume takes the step between the slices' ImagePositionPatient, as dcm2niix does
    (a SpacingBetweenSlices can be a protocol value, or 16 mm where slices are 0.5 mm
    apart); the note names both. SliceThickness is no step (a gap or an overlap between
    slices is normal), so it is never compared. ``""`` for one slice, no value or several.
    """
    values = set(between)
    if len(between) < 2 or len(values) != 1 or None in values:
        return ""
    written = float(next(iter(values)))  # type: ignore[arg-type]
    if abs(written - step) <= max(SPACING_TOLERANCE, SPACING_RATIO * step):
        return ""
    return (f"slice spacing: SpacingBetweenSlices (0018,0088) {written:g} mm differs from the "
            f"{step:.4g} mm step between the slices' ImagePositionPatient, which the volume "
            "uses (as dcm2niix)")  # fmt: skip


def _grid(rel: np.ndarray) -> tuple[float, ...]:
    step = float(np.diff(rel).min())
    count = round(float(rel[-1] - rel[0]) / step) + 1
    if count > MAX_RESAMPLE_FACTOR * len(rel):
        raise _Refused(f"{describe_steps(rel)}: resampling to the smallest step would make "
                       f"{count} slices of {len(rel)}, use --uneven split")  # fmt: skip
    return tuple(float(v) for v in np.linspace(float(rel[0]), float(rel[-1]), count))


def _sheared_step(positions: np.ndarray, tol: float) -> np.ndarray | None:
    """The slice-to-slice vector when slices are evenly spaced on a line, else ``None``."""
    k = len(positions)
    column = (positions[-1] - positions[0]) / (k - 1)
    line = positions[0] + np.outer(np.arange(k), column)
    return column if float(np.linalg.norm(positions - line, axis=1).max()) <= tol else None


def tilt_angle(positions: np.ndarray, normal: np.ndarray) -> float:
    """Degrees between the normal and the first-to-last slice direction (along ``normal``)."""
    return float(np.degrees(np.arccos(min(1.0, tilt_cosine(normal, positions)))))
