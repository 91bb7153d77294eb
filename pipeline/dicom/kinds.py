"""Which frames of one SeriesInstanceUID may share a volume: one patient, one image kind.

Used by :func:`pipeline.dicom.assemble.plan_series` before the geometry is looked at: a series
holding several PatientIDs is refused (:func:`mixed_subjects`), and each SeriesNumber's frames
are split by ImageType's first two values and LOCALIZER (:func:`kind_groups`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pipeline.dicom.colocated import acquisition_order
from pipeline.dicom.frames import HALF_RESCALE, LOCALIZER, LUT_RESCALE, SCOUT_WORDS, FrameRef

__all__ = [
    "geometry_kinds", "kind_groups", "mixed_frames_of_reference", "mixed_rescale", "mixed_studies",
    "mixed_subjects", "modality_groups", "orientation_groups", "other_planes", "unplaced_refusal",
]  # fmt: skip


def mixed_subjects(frames: list[FrameRef]) -> str:
    """Why a series holding several patients is refused ("" when it holds one).

    A SeriesInstanceUID belongs to one patient (PS3.3 C.7.3.1). Merged or re-identified
    exports can file images of another PatientID under it (dcm4chee-arc-light #4508 refuses
    such objects): stacked as one volume and filed under the first patient, they would mix
    patients and leak across a patient-level split.
    """
    patients = {f.subject for f in frames}
    if len(patients) == 1:
        return ""
    return (
        f"{len(patients)} PatientID values in one SeriesInstanceUID (merged or re-identified "
        "exports): a volume would mix patients"
    )


def mixed_rescale(frames: list[FrameRef], kinds: list[list[int]]) -> tuple[str, list[int]]:
    """Why a series, some of one kind's images lacking the rescale the others have, is refused.

    Returns the reason ("" when none) and the frames at fault. An image without RescaleSlope,
    RescaleIntercept or a Modality LUT Sequence is read in stored values (slope 1, intercept
    0: pydicom's and every reader's default; one of the pair alone is no better: the other is
    that default), so beside images of its kind (:func:`kind_groups`,
    after :func:`geometry_kinds`: a dose page filed with the slices is another) whose rescale
    is not that identity (a CT's -1024) it is in other units: a CT slice whose rescale an
    editing tool dropped came out 1024 HU above its neighbours, unsaid, inside the volume
    (pydicom #818 and #1615: user code guessed -1024 for it). Which rescale it had is
    unknown, so the series is refused, naming the file; per instance each file is written as
    it reads. Complex components are compared apart: a Siemens phase image has a rescale
    (slope 2, intercept -4096) that its magnitude image lacks.
    """
    for members in (g for kind in kinds for g in _by_component(frames, kind)):
        missing = [k for k in members if frames[k].rescale in (None, HALF_RESCALE)]
        given = {r for k in members if (r := frames[k].rescale) not in _NO_RESCALE}
        if not missing or not given:
            continue
        shown = ", ".join(
            "a Modality LUT Sequence" if r == LUT_RESCALE else f"slope {r[0]:g}, intercept {r[1]:g}"
            for r in sorted(given)[:3]
        )
        return (
            f"RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) missing on {len(missing)} of "
            f"{len(members)} images of one kind whose others have them ({shown}): read as stored "
            "values, they would sit in the volume in other units than their neighbours",
            missing,
        )
    return "", []


#: Largest difference of ImageOrientationPatient direction cosines within one volume, as
#: dcm2niix's ``isSameFloatGE`` (0.0001).
SAME_COSINE = 1e-4

#: rescales that are no mapping of their own: none, identity, half a pair (HALF_RESCALE)
_NO_RESCALE = (None, (1.0, 0.0), HALF_RESCALE)


def _by_component(frames: list[FrameRef], members: list[int]) -> list[list[int]]:
    """``members`` grouped by ComplexImageComponent (the first stack value), empty apart."""
    by: dict[object, list[int]] = defaultdict(list)
    for k in members:
        by[frames[k].stack_values[0] if frames[k].stack_values else None].append(k)
    return list(by.values())


def mixed_studies(frames: list[FrameRef]) -> str:
    """What a series filed under several StudyInstanceUIDs says ("" for one study).

    A series belongs to one study (PS3.3 C.7.3.1). Several StudyInstanceUIDs under one
    SeriesInstanceUID come from an export or de-identification that rewrote one UID but not the
    other; the series is kept together (its patient is one, so the split stays clean) and the
    note says so.
    """
    return _several({f.study for f in frames if f.study}, "StudyInstanceUID",
                    "a series belongs to one study")  # fmt: skip


def mixed_frames_of_reference(frames: list[FrameRef]) -> str:
    """What a series whose images name several FrameOfReferenceUIDs says ("" for one).

    Each series has a single Frame of Reference (PS3.3 C.7.4.1.1.1): positions in different
    ones are not comparable, so stacking them by ImagePositionPatient has no meaning (merged
    acquisitions, or a de-identification that gave each file a new UID). The series is kept
    together (a split would make single-slice volumes of the latter) and the note says so.
    """
    return _several(
        {f.frame_of_reference for f in frames if f.frame_of_reference}, "FrameOfReferenceUID",
        "each series has one frame of reference: positions of different ones are not "
        "comparable, yet stacked by position",
    )  # fmt: skip


def _several(values: set[str], keyword: str, why: str) -> str:
    if len(values) < 2:
        return ""
    return f"{len(values)} {keyword} values in one SeriesInstanceUID ({why}): kept as one series"


def modality_groups(
    frames: list[FrameRef], numbers: dict[int | None, list[int]], notes: list[str]
) -> dict[tuple[int | None, str], list[int]]:
    """Each SeriesNumber's frames split by Modality (0008,0060).

    A series holds one modality (PS3.3 C.7.3.1.1.1), yet some devices and tools file images
    of several under one SeriesInstanceUID (SlicerRT #272, orthanc-gdt #3): a CT and a PET
    stack over the same positions were told apart by acquisition order, tied, then by file
    name, so a volume could take CT slices at some positions and PET ones at others, and
    every volume was labelled with the first file's modality. Frames without Modality join
    the first modality (a damaged header, not another kind).
    """
    out: dict[tuple[int | None, str], list[int]] = {}
    seen: set[str] = set()
    for number, members in numbers.items():
        by_modality = _split_by(members, lambda k: frames[k].modality, str)
        seen.update(by_modality)
        out.update({(number, m): found for m, found in by_modality.items()})
    if len(seen) > 1:
        shown = ", ".join(sorted(seen))
        notes.append(f"split: {len(seen)} modalities in one SeriesInstanceUID ({shown}; a "
                     "series holds one), one volume each")  # fmt: skip
    return out


def kind_groups(
    frames: list[FrameRef], numbers: dict[int | None, list[int]], notes: list[str]
) -> list[list[int]]:
    """Each SeriesNumber's frames split by ImageType's first two values (original, derived).

    A derived image (a reformat, subtraction or screen capture) that shares the series of the
    acquired slices is not one of them: it would be stacked among them, or take the place of
    the slice at its position. Images without ImageType join the first (acquired) kind. Each
    modality is split first (:func:`modality_groups`).
    """
    groups = modality_groups(frames, numbers, notes)
    out: list[list[int]] = []
    seen: set[str] = set()
    for members in groups.values():
        by_kind = _split_by(members, lambda k: frames[k].image_kind, _acquired_first)
        seen.update(by_kind)
        out += by_kind.values()
    if len(out) > len(groups):
        shown = ", ".join(kind or "none" for kind in sorted(seen, key=_acquired_first))
        scout = next((w for w in SCOUT_WORDS for kind in seen if kind.endswith("\\" + w)), "")
        what = "a scout" if scout == LOCALIZER else "a localizer"
        why = f": a {scout} is {what} planning the slices, not one of them" if scout else ""
        notes.append(
            f"split: {len(seen)} image types in one series (ImageType {shown}{why}), "
            "one volume each"
        )
    return out


def _is_localizer(kind: str) -> bool:
    return any(kind.endswith("\\" + word) for word in SCOUT_WORDS)


def _acquired_first(kind: str) -> tuple[bool, bool, str]:
    """Acquired slices first, derived images next, scouts last (never ``_s00``)."""
    return (_is_localizer(kind), not kind.startswith("ORIGINAL"), kind)


def _split_by(
    members: list[int], value: Callable[[int], str], order: Callable[[str], Any]
) -> dict[str, list[int]]:
    """``members`` grouped by ``value``, the groups sorted by ``order``.

    Members without a value (``""``: a damaged header, not another group) join the first
    group when there is one.
    """
    by: dict[str, list[int]] = defaultdict(list)
    for k in members:
        by[value(k)].append(k)
    if "" in by and len(by) > 1:
        untyped = by.pop("")
        by[min(by, key=order)] += untyped
    return {v: by[v] for v in sorted(by, key=order)}


def geometry_kinds(
    frames: list[FrameRef], kinds: list[list[int]], notes: list[str] | None = None
) -> tuple[list[list[int]], list[list[int]], list[int]]:
    """The kinds whose frames are all placed, those with none placed, and the rest's culprits.

    A screen capture or dose page (ImageType DERIVED/SECONDARY, no ImagePositionPatient)
    filed in the series of the axial slices is its own picture: it made the whole series
    refused for "slice geometry missing", naming the series' first file. Such a kind is now a
    volume without geometry beside the placed ones; only frames without geometry in a kind
    that has placed frames too (a damaged slice) still refuse the series, and they are named.
    A colour image without geometry among placed slices (an RGB screen capture without
    ImageType, filed in a CT series) is no damaged slice: it is its own picture too.

    Returns
    -------
    tuple
        ``(placed kinds, unplaced kinds, frames without geometry among placed ones)``.
    """
    placed: list[list[int]] = []
    flat: list[list[int]] = []
    culprits: list[int] = []
    for members in kinds:
        missing = [k for k in members if not _placed(frames[k])]
        pictures = [k for k in missing if frames[k].colour]  # a colour capture, not a slice
        if pictures and len(pictures) < len(members) and len(missing) < len(members):
            flat.append(pictures)
            if notes is not None:
                notes.append(f"split: {len(pictures)} colour image(s) without slice "
                             "geometry (a screen capture?) among the grey slices, written "
                             "apart")  # fmt: skip
            members = [k for k in members if k not in pictures]
            missing = [k for k in missing if k not in pictures]
        if len(missing) == len(members):
            flat.append(members)
        else:
            placed.append(members)
            culprits += missing
    return placed, flat, culprits


def _placed(f: FrameRef) -> bool:
    return f.position is not None and f.orientation is not None and f.pixel_spacing is not None


def unplaced_refusal(frames: list[FrameRef], culprits: list[int], total: int) -> str:
    """Why a series with images lacking geometry among placed ones is refused.

    In a multi-frame file (an Enhanced CT, MR or PET object whose Per-frame Functional Groups
    give some frames no PlanePositionSequence) the refusal said "missing on 1 of 6 images"
    only, naming the file: which frames, and which attribute, are now said too.
    """
    said = (f"slice geometry (ImagePositionPatient/ImageOrientationPatient/PixelSpacing) "
            f"missing on {len(culprits)} of {total} images")  # fmt: skip
    source = min(frames[k].source for k in culprits)
    count = sum(f.source == source for f in frames)
    if count < 2:
        return said
    own = sorted(frames[k].frame + 1 for k in culprits if frames[k].source == source)
    lacking = [name for name, attr in (("ImagePositionPatient", "position"),
                                       ("ImageOrientationPatient", "orientation"),
                                       ("PixelSpacing", "pixel_spacing"))
               if any(getattr(frames[k], attr) is None for k in culprits)]  # fmt: skip
    shown = ", ".join(map(str, own[:5])) + (" ..." if len(own) > 5 else "")
    return (f"{said}: frame{'s' * (len(own) > 1)} {shown} of the {count} of a multi-frame file "
            f"(numbered from 1) without {' or '.join(lacking)}, in its Per-frame or Shared "
            "Functional Groups (PS3.3 C.7.6.16)")  # fmt: skip


def orientation_groups(frames: list[FrameRef], members: list[int]) -> list[list[int]]:
    """Each image size, ImageOrientationPatient and PixelSpacing a group (:func:`_close`).

    Cosines 1e-4..1e-3 apart (planes up to 0.06 degrees apart, a corner of a 256 mm field up to
    0.36 mm off) were stacked as one volume without a word; dcm2niix stacks only within 1e-4
    (``isSameFloatGE``, "Slices not stacked: orientation varies"), and so does this now: the
    groups are split and the note gives the angle (:func:`pipeline.dicom.rotated_planes`).

    A pixel spacing under 0.1 mm (micro-CT) is compared within 1 % of itself: 1e-3 mm was a
    tenth of a 9 um pixel, so slices of 9 and 9.9 um pixels shared a volume and its spacing.
    """
    groups: list[tuple[tuple[int, int], tuple[float, ...], list[int]]] = []
    for k in members:
        f = frames[k]
        b = (*(f.orientation or ()), *(f.pixel_spacing or ()))
        for size, a, group in groups:
            if size != (f.rows, f.columns):
                continue
            if a == b or _close(a, b, len(f.orientation or ())):
                group.append(k)
                break
        else:
            groups.append(((f.rows, f.columns), b, [k]))
    # the largest first, ties in acquisition order: a localizer filed with the slices, one
    # image in another plane, acquired first, was ``_s00`` and the slices ``_s01``; time
    # points that a motion correction rotated, one group each, came in file-name order
    found = [g for _, _, g in groups]
    return sorted(found, key=lambda g: (-len(g), min(acquisition_order(frames[k]) for k in g)))


def other_planes(frames: list[FrameRef], groups: list[list[int]]) -> str:
    """What the split of :func:`orientation_groups` set apart from the largest group.

    ``" (...)"`` naming the images in other planes than a group larger than every other,
    localizers filed in the series, or an Enhanced object's other stacks (dcm2niix:
    "orientation varies (vNav or localizer?)"); ``""`` when no group is the largest or every
    group shares its plane.
    """
    first, rest = groups[0], groups[1:]
    plane = frames[first[0]].orientation or ()
    apart = [g for g in rest if not _close(frames[g[0]].orientation or (), plane, len(plane))]
    if not apart or any(len(g) >= len(first) for g in rest):
        return ""
    n = sum(len(g) for g in apart)
    return (f" ({n} image{'s' * (n > 1)} in another plane than the {len(first)} of the first "
            "volume, a localizer or another stack: not stacked with them)")  # fmt: skip


def _close(a: tuple[float, ...], b: tuple[float, ...], cosines: int) -> bool:
    """Cosines within :data:`SAME_COSINE`; spacings (after ``cosines``) within 1e-3 mm.

    Spacings under 0.1 mm are compared within 1 % of themselves.
    """
    return len(a) == len(b) and all(
        abs(x - y) <= (SAME_COSINE if j < cosines else min(1e-3, 0.01 * abs(y))) + 1e-5 * abs(y)
        for j, (x, y) in enumerate(zip(a, b))
    )
