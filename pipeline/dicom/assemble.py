"""Series assembly: the frames of one series -> volumes whose geometry is right, or a refusal.

A pure planner over :class:`~pipeline.dicom.frames.FrameRef` values (no pixels), used both by
``radpipe inspect`` (headers) and ``radpipe convert`` (which adds pixel digests, so that
identical images under new UIDs are recognised as duplicates too). The steps:

1. Exact duplicates (same SOPInstanceUID and frame, or same position and identical pixels)
   are dropped.
2. Frames are grouped by orientation, image size and pixel spacing: each group is its own
   volume (a three-plane localizer gives three).
3. Blocks of a group side by side at shared slice positions (other in-plane origins: left and
   right in a bilateral acquisition) are one volume each (:mod:`pipeline.dicom.side_blocks`).
   Co-located frames within a group are stacks (time points, echoes, directions), told apart
   by :func:`~pipeline.dicom.colocated.colocated_stacks` (the first of
   :data:`~pipeline.dicom.frames.STACK_KEYS` that makes them unique, else two keys, else
   acquisition order). Time points with the same positions and a RepetitionTime become one
   4-D volume unless ``split_4d`` (echoes, complex components and stacks of :data:`NOT_TIME`
   never do); its time step is measured when the time points' own times disagree with TR.
4. Each stack is checked against its own ImagePositionPatient values: a sheared stack (gantry
   tilt) follows ``tilt``, uneven steps or gaps follow ``uneven`` (see :class:`GeometryPolicy`).

Every decision is recorded in :attr:`VolumePlan.problems` as ``"<kind>: <detail>"``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from pipeline.dicom import geometry
from pipeline.dicom.colocated import (
    acquisition_order,
    colocated_stacks,
    day_times,
    position_places,
    same_positions,
    short_stacks,
    unplaced_slices,
)
from pipeline.dicom.diffusion import diffusion_notes, diffusion_table
from pipeline.dicom.duplicates import drop_duplicates
from pipeline.dicom.echo_times import same_echoes
from pipeline.dicom.expected_counts import count_notes
from pipeline.dicom.flat import flat_volumes
from pipeline.dicom.frames import FrameRef
from pipeline.dicom.incomplete_stacks import whole_and_partial
from pipeline.dicom.kinds import (
    geometry_kinds,
    kind_groups,
    mixed_frames_of_reference,
    mixed_rescale,
    mixed_studies,
    mixed_subjects,
    orientation_groups,
    other_planes,
    unplaced_refusal,
)
from pipeline.dicom.notes import note_text
from pipeline.dicom.passes import (
    interleaved_stacks,
    kernel_groups,
    split_passes,
    split_reconstructions,
)
from pipeline.dicom.rotated_planes import rotated_planes
from pipeline.dicom.side_blocks import side_by_side
from pipeline.dicom.stack import plan_positions
from pipeline.dicom.stack_keys import NOT_TIME, STACK_KEYS
from pipeline.dicom.units import missing_rescale_notes
from pipeline.dicom.volume_plan import VolumePlan, _Refused, missing_numbers, time_step

TILT_CHOICES = ("resample", "keep", "refuse")
UNEVEN_CHOICES = ("resample", "split", "refuse")


@dataclass(frozen=True)
class GeometryPolicy:
    """What to do with geometry a plain stack cannot represent.

    Parameters
    ----------
    tilt
        Sheared stacks (gantry tilt): ``"resample"`` (default) shifts each slice in-plane onto
        an orthogonal grid, as dcm2niix does; ``"keep"`` writes the slices unchanged with a
        sheared affine (NIfTI sform only); ``"refuse"`` refuses the series.
    uneven
        Uneven steps or missing slices: ``"resample"`` (default) interpolates linearly along
        the normal onto the smallest step; ``"split"`` writes one volume per evenly spaced
        run; ``"refuse"`` refuses the series.
    split_4d
        Write co-located time points as separate 3-D volumes even when a 4-D one is possible.
    """

    tilt: str = "resample"
    uneven: str = "resample"
    split_4d: bool = False

    def __post_init__(self) -> None:
        if self.tilt not in TILT_CHOICES:
            raise ValueError(f"tilt must be one of {', '.join(TILT_CHOICES)}; got {self.tilt!r}.")
        if self.uneven not in UNEVEN_CHOICES:
            raise ValueError(
                f"uneven must be one of {', '.join(UNEVEN_CHOICES)}; got {self.uneven!r}."
            )


@dataclass
class SeriesPlan:
    """The volumes of one series with the problems met, or why it is refused.

    Problems are the series' ``notes`` and each volume's own; ``info`` records decisions that
    are no problem (tagged time points).
    """

    volumes: list[VolumePlan] = field(default_factory=list)
    refusal: str = ""
    refusal_source: str = ""  # the file at fault, when one is
    notes: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    frames: list[FrameRef] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every note, in order, without repeats (series notes first).

        Each is one note of a problems cell (:func:`~pipeline.dicom.notes.note_text`).
        """
        said = [*self.notes, *(p for v in self.volumes for p in v.problems)]
        return list(dict.fromkeys(map(note_text, said)))


def plan_series(frames: list[FrameRef], policy: GeometryPolicy | None = None) -> SeriesPlan:
    """Assemble the frames of one series into volumes (see the module docstring).

    Parameters
    ----------
    frames
        Every frame of the series, in any order.
    policy
        Tilt, uneven-spacing and 4-D choices (default :class:`GeometryPolicy`).

    Returns
    -------
    SeriesPlan
        Volumes whose every slice sits within
        :data:`~pipeline.dicom.volume_plan.POSITION_TOLERANCE` of its DICOM
        position (or that were resampled and say so), or a refusal reason.
    """
    policy = policy or GeometryPolicy()
    plan = SeriesPlan(frames=(frames := same_echoes(day_times(list(frames)))))
    refused = next((f.refusal for f in frames if f.refusal), "") or mixed_subjects(frames)
    if refused or not frames:
        plan.refusal = refused or "no images"
        return plan
    plan.notes += [n for n in (mixed_studies(frames), mixed_frames_of_reference(frames)) if n]
    # a mosaic's tiles are its slices (placed in frame_refs): splitting them is how the
    # format is read, not a problem, so it is not noted (a guessed tile step is)
    plan.notes += sorted({f.note for f in frames if f.note})
    plan.notes += missing_rescale_notes(frames)  # values not in the modality's unit
    keep = drop_duplicates(frames, plan.notes)
    if not any(_has_geometry(frames[k]) for k in keep):
        order = sorted(keep, key=lambda k: acquisition_order(frames[k]))
        plan.volumes += flat_volumes(frames, order, plan.info)
        return plan
    numbers: dict[int | None, list[int]] = defaultdict(list)
    for k in keep:
        numbers[frames[k].series_number].append(k)
    if len(numbers) > 1:
        plan.notes.append(
            f"split: {len(numbers)} SeriesNumber values in one SeriesInstanceUID (edited or "
            "merged exports), one volume each"
        )
    kinds, flat, culprits = geometry_kinds(
        frames,
        kernel_groups(frames, kind_groups(frames, numbers, plan.notes), plan.notes),
        plan.notes,
    )
    if culprits:  # a damaged slice among placed ones of its kind: named, never guessed
        plan.refusal_source = min(frames[k].source for k in culprits)
        plan.refusal = unplaced_refusal(frames, culprits, len(keep))
        return plan
    refused, culprits = mixed_rescale(frames, kinds + flat)
    if refused:  # named, never guessed (as a slice without geometry is)
        plan.refusal_source, plan.refusal = min(frames[k].source for k in culprits), refused
        return plan
    groups = [g for members in kinds for g in orientation_groups(frames, members)]
    if len(groups) > len(kinds):
        apart = (rotated_planes(frames, groups) or other_planes(frames, groups)
                 if len(kinds) == 1 else "")  # fmt: skip
        plan.notes.append(
            f"split: {len(groups)} orientations, image sizes or pixel spacings in one series, one "
            f"volume each{apart}"
        )
    try:
        for group in groups:
            plan.volumes += _plan_group(frames, group, policy, plan)
        for group in flat:  # a picture filed in the series (screen capture): no geometry
            order = sorted(group, key=lambda k: acquisition_order(frames[k]))
            plan.volumes += flat_volumes(frames, order, plan.info)
    except _Refused as err:
        plan.volumes = []
        plan.refusal, plan.refusal_source = str(err), err.source
    if not plan.refusal:  # what no position shows: slices or time points missing at the ends
        short, plan.volumes = count_notes(frames, plan.volumes)
        plan.notes += short
    return plan


def _has_geometry(f: FrameRef) -> bool:
    return f.position is not None and f.orientation is not None and f.pixel_spacing is not None


def _plan_group(
    frames: list[FrameRef], group: list[int], policy: GeometryPolicy, plan: SeriesPlan
) -> list[VolumePlan]:
    """One orientation group: stacks of co-located frames, then each stack's geometry.

    Direction cosines off orthonormal (rounded in the header) are replaced by the nearest
    orthonormal pair for the whole group, and beyond DS rounding every volume says so; far
    off, the group is refused (:func:`_orthonormal`).
    """
    fixed, note = _orthonormal(frames, group)
    if fixed is not None:
        members = set(group)
        frames = [replace(f, orientation=fixed) if k in members else f
                  for k, f in enumerate(frames)]  # fmt: skip
    volumes = _plan_oriented(frames, group, policy, plan)
    return [replace(v, problems=(note, *v.problems)) for v in volumes] if note else volumes


def _plan_oriented(
    frames: list[FrameRef], group: list[int], policy: GeometryPolicy, plan: SeriesPlan
) -> list[VolumePlan]:
    normal = geometry.slice_normal(frames[group[0]].orientation)  # type: ignore[arg-type]
    dist = {k: float(np.dot(frames[k].position, normal)) for k in group}  # type: ignore[arg-type]
    places = position_places(frames, group, dist)  # co-located frames: by both steps below
    blocks, what = side_by_side(frames, group, places, normal)
    if what:
        plan.notes.append(what)
        return [v for b in blocks for v in _plan_oriented(frames, b, policy, plan)]
    recons, what = split_reconstructions(frames, group, dist, plan.notes)
    if what:
        plan.notes.append(f"split: {what} over overlapping ranges, one volume each")
        return [v for r in recons for v in _plan_oriented(frames, r, policy, plan)]
    stacks, how = colocated_stacks(frames, group, dist, places)
    for s in stacks:
        s.sort(key=lambda k: dist[k])
    passes, what = split_passes(frames, stacks[0], dist) if len(stacks) == 1 else ([], "")
    if what and (key := what.split(" by ")[1].split()[0]) in _TIME_PASSES:
        for p in passes:
            p.sort(key=lambda k: dist[k])
        if same_positions(frames, passes):  # within the step tolerance: time points
            return _plan_time(frames, passes, key, normal, policy, plan)
    if what:
        plan.notes.append(f"split: {what}, one volume each")
        return [v for p in passes for v in _plan_stack(frames, p, normal, policy)]
    if len(stacks) == 1:
        plan.notes += [n for n in [interleaved_stacks(frames, stacks[0], dist)] if n]
        return _plan_stack(frames, stacks[0], normal, policy)
    keys = how.split(" and ")
    apart = [key for key in keys if key in NOT_TIME]
    if len(keys) == 2 and len(apart) == 1:  # each echo (component, stack) of a time series
        j, time = STACK_KEYS.index(apart[0]), next(key for key in keys if key not in NOT_TIME)
        by: dict[object, list[list[int]]] = defaultdict(list)
        for s in stacks:  # in (time, echo) order: each echo's time points in order
            by[frames[s[0]].stack_values[j]].append(s)
        plan.info.append(f"split: {len(by)} volumes by {apart[0]}, each of time points by {time}")
        return [v for found in by.values() for v in _plan_time(frames, found, time, normal,
                                                               policy, plan)]  # fmt: skip
    if not set(keys) <= set(STACK_KEYS):  # nothing but the order of acquisition tells them apart
        if unplaced := unplaced_slices(frames, stacks):
            raise _Refused(unplaced)
        plan.notes.append(
            f"split: {len(stacks)} images at one position (time points or duplicates), "
            f"told apart by {how}"
        )
    return _plan_time(frames, stacks, how, normal, policy, plan)


def _plan_time(
    frames: list[FrameRef],
    stacks: list[list[int]],
    how: str,
    normal: np.ndarray,
    policy: GeometryPolicy,
    plan: SeriesPlan,
) -> list[VolumePlan]:
    """Stacks told apart by ``how``: one 4-D volume of time points, or a volume each."""
    keys = set(how.split(" and "))
    tagged = keys <= set(STACK_KEYS)
    if len(stacks) == 1:
        return _plan_stack(frames, stacks[0], normal, policy)
    tr = frames[stacks[0][0]].repetition_time
    if keys & set(NOT_TIME):  # echoes, components, stacks: not time points TR apart (dcm2niix)
        tr = None
    if same_positions(frames, stacks) and tr and not policy.split_4d:
        volume = _plan_stack(frames, stacks[0], normal, policy)
        if len(volume) == 1:
            plan.info.append(f"4-D: {len(stacks)} time points by {how}, TR {tr:g} ms")
            step, note = time_step([_start(frames, s, how) for s in stacks], tr)
            diffusion = diffusion_table(frames, stacks, plan.notes)
            gaps = missing_numbers(how, [_value(frames, s, how) for s in stacks])
            plan.notes += [n for n in (gaps, note, *diffusion_notes(diffusion)) if n]
            return [
                replace(volume[0], frames=tuple(tuple(s) for s in stacks), repetition_time=step,
                        diffusion=diffusion)
            ]  # fmt: skip
    if tr and not policy.split_4d and not same_positions(frames, stacks):
        whole, partial = whole_and_partial(
            stacks, lambda s: same_positions(frames, s), lambda k: frames[k].position
        )
        if whole:  # an interrupted run: its whole time points one 4-D volume, the rest apart
            plan.notes.append(f"split: {len(stacks)} stacks by {how}: the {len(whole)} holding "
                              f"every position one 4-D volume, the others written apart "
                              f"({short_stacks(frames, stacks)})")  # fmt: skip
            volumes = _plan_time(frames, whole, how, normal, policy, plan)
            return volumes + _plan_time(frames, partial, how, normal, policy, plan)
    why = "--split-4d" if policy.split_4d else "no RepetitionTime for a 4-D header"
    if keys & set(NOT_TIME):
        why = f"{how} tell them apart: not time points of a 4-D volume"
    if not same_positions(frames, stacks):
        short = short_stacks(frames, stacks)
        why = f"their positions differ: {short}" if short else "their positions differ"
    elif tr and not policy.split_4d:
        why = "each one split by the uneven-spacing policy"
    decision = f"split: {len(stacks)} stacks by {how} written as separate volumes ({why})"
    # time points that do not cover the same positions (a slice missing in one) are a
    # problem even when tagged, and so are an MR's split for want of its RepetitionTime (each
    # volume's cell says it is one of several); a split by choice (--split-4d), by a key that
    # is no time (echoes) or of a modality without TR (PET frames, CT passes) is information
    differ = not same_positions(frames, stacks)
    untimed = why.startswith("no RepetitionTime") and frames[stacks[0][0]].modality == "MR"
    (plan.info if tagged and not differ and not untimed else plan.notes).append(decision)
    table = diffusion_table(frames, stacks, plan.notes)  # each 3-D volume: its own b and g
    plan.notes += diffusion_notes(table)
    found = [_plan_stack(frames, s, normal, policy) for s in stacks]
    return [v if table is None else replace(v, diffusion=(table[k],))
            for k, volumes in enumerate(found) for v in volumes]  # fmt: skip


#: Keys of passes that are time points when their positions agree within the step
#: tolerance, though not within :data:`~pipeline.dicom.colocated.SAME_POSITION` (a DCE series
#: whose positions drift 0.02 mm per time point was refused as 441 missing slices of 0.02 mm).
_TIME_PASSES = ("TemporalPositionIdentifier", "AcquisitionNumber")


def _orthonormal(frames: list[FrameRef], group: list[int]) -> tuple[tuple[float, ...] | None, str]:
    """Check the group's direction cosines (PS3.3 C.7.6.2.1.1).

    Returns ``(None, "")`` when orthonormal as written, else the nearest orthonormal pair to
    use instead and the note that says so: ``""`` within
    :data:`~pipeline.dicom.geometry.ORTHONORMAL_EXACT` (DS rounding), where the pair is still
    replaced, so that the affine's columns are unit vectors times the pixel spacing (dcm2niix
    normalises the cosines alike).

    A pair far from orthonormal has no rigid geometry (a NIfTI qform, a rotation, and sform,
    the raw vectors, would place the voxels differently; slice spacing along the normal is
    ill-defined): :class:`_Refused` beyond :data:`~pipeline.dicom.geometry.ORTHONORMAL_LIMIT`.
    """
    orientation = frames[group[0]].orientation or ()
    fixed, deviation = geometry.orthonormal_orientation(orientation)
    if deviation <= geometry.ORTHONORMAL_FLOAT:  # as written, bit for bit (no 1e-18 churn)
        return None, ""
    if deviation <= geometry.ORTHONORMAL_EXACT:
        return fixed, ""
    row, col = np.asarray(orientation[:3]), np.asarray(orientation[3:])
    dot = round(float(row @ col), 6) + 0.0  # no "-0"
    found = (f"row . column = {dot:.4g}, lengths {np.linalg.norm(row):.4g} and "
             f"{np.linalg.norm(col):.4g}")  # fmt: skip
    if deviation > geometry.ORTHONORMAL_LIMIT:
        raise _Refused(
            f"ImageOrientationPatient (0020,0037) is not two orthogonal unit vectors ({found}): "
            "no volume geometry",
            min(frames[k].source for k in group),  # the file at fault, not the series' first
        )
    return fixed, (f"orientation made orthonormal: ImageOrientationPatient {found}, the "
                   "nearest orthonormal pair used")  # fmt: skip


def _value(frames: list[FrameRef], stack: list[int], how: str) -> object:
    """The value of key ``how`` that the stack's images share."""
    return frames[stack[0]].stack_values[STACK_KEYS.index(how)] if how in STACK_KEYS else None


def _start(frames: list[FrameRef], stack: list[int], how: str) -> float | None:
    """When a time point starts (s): its trigger delay (cardiac phases), else its first time."""
    if how == "TriggerTime":  # phases of one cycle share their acquisition time
        return float(frames[stack[0]].stack_values[STACK_KEYS.index(how)]) / 1000
    times = [frames[k].time for k in stack]
    return None if None in times else min(t for t in times if t is not None)


def _plan_stack(
    frames: list[FrameRef], stack: list[int], normal: np.ndarray, policy: GeometryPolicy
) -> list[VolumePlan]:
    """Check one stack (sorted along the normal) against its positions; apply the policies."""
    return plan_positions(frames, stack, normal, policy)
