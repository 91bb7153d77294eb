"""Volumes of images without slice geometry (cine, radiographs, pictures filed in a series).

Used by :func:`pipeline.dicom.assemble.plan_series`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipeline.dicom.cine import cine_step
from pipeline.dicom.cine_stack import stacked_cines
from pipeline.dicom.frame_stack import ONE_POSITION
from pipeline.dicom.frames import FrameRef
from pipeline.dicom.geometry import ORTHONORMAL_LIMIT, affine_lps, orthonormal_orientation
from pipeline.dicom.stack_keys import STACK_KEYS
from pipeline.dicom.volume_plan import VolumePlan

__all__ = ["ACQUISITION_ORDER", "flat_volume", "flat_volumes", "placed_cine"]

#: How frames without slice geometry are ordered (:func:`~.colocated.acquisition_order`).
ACQUISITION_ORDER = "acquisition order (AcquisitionTime or ContentTime, then InstanceNumber)"


def _missing_geometry(frames: list[FrameRef], order: list[int]) -> str:
    """The attributes that place an image which some of ``order`` lack, as ``"A/B"``.

    Unusable values count as lacking (a PixelSpacing of 0, an unreadable orientation); a
    classic multi-frame file's one position lacks one for each frame (:mod:`.frame_stack`).
    """
    one = all(frames[k].note.startswith(ONE_POSITION) for k in order if frames[k].position is None)
    names = (("position", "ImagePositionPatient" + " for each frame" * one),
             ("orientation", "ImageOrientationPatient"),
             ("pixel_spacing", "PixelSpacing"))  # fmt: skip
    return "/".join(n for a, n in names if any(getattr(frames[k], a) is None for k in order))


def flat_volume(frames: list[FrameRef], order: list[int]) -> VolumePlan:
    """One volume of images without slice geometry, in ``order``, without an affine.

    Its spacing is the images' pixel spacing (1 x 1 when unknown, and said) and a frame step
    of 1 (not mm); a cine's ``frame_time`` is its time step (:mod:`pipeline.dicom.cine`).
    """
    f = frames[order[0]]
    ps = f.pixel_spacing or (1.0, 1.0)
    problems = []
    step, note = _cine_step(frames, order)
    if step is not None and len(order) > 1 and (placed := placed_cine(f, len(order), step)):
        affine, said = placed  # time points of one slice, as a 4-D series' (T, 1, H, W)
        thick = float(np.linalg.norm(affine[:3, 2]))
        return VolumePlan(frames=tuple((k,) for k in order), distances=(0.0,), affine=affine,
                          spacing=(thick, float(ps[0]), float(ps[1])), repetition_time=step,
                          problems=tuple(filter(None, [said, note])))  # fmt: skip
    if len(order) > 1:  # a single 2-D image (CR, DX, US) needs no volume geometry
        # a cine's frames are one place over time whatever its header gives (it may well
        # have an ImagePositionPatient, which "images without" it denied)
        one = _one_file(frames, order)  # frames, not images: in the file's order, unsorted
        missing = _missing_geometry(frames, order)
        why = (f"a cine ({len(order)} frames of one file at one place over time, "
               f"{step:.4g} ms apart)" if step is not None
               else f"{len(order)} frames of one file without {missing}" if one
               else f"images without {missing}")  # fmt: skip
        # without a slice normal their order is not where they lie: said, as it was chosen
        how = ("" if step is not None else ", in the file's frame order" if one
               else f", stacked in {ACQUISITION_ORDER}")  # fmt: skip
        problems.append(f"no geometry: {why}, affine unknown{how}")
        if f.pixel_spacing is None:  # said, not silently claimed as 1 mm
            problems.append("PixelSpacing absent or unreadable: a volume of this series has "
                            "spacing 1 x 1 (pixels, not mm)")  # fmt: skip
    return VolumePlan(frames=(tuple(order),), distances=tuple(0.0 for _ in order),
                      affine=None, spacing=(1.0, float(ps[0]), float(ps[1])),
                      problems=tuple(filter(None, [*problems, note])), frame_time=step,
                      pixel_mm=f.pixel_spacing is not None)  # fmt: skip


def placed_cine(f: FrameRef, count: int, step: float) -> tuple[np.ndarray, str] | None:
    """The LPS affine of a cine's one slice and what it rests on, or ``None`` when unplaced.

    A cine of a classic multi-frame file with an ImagePositionPatient, orientation and pixel
    spacing (a cardiac cine MR; CT, MR and PET only, :mod:`pipeline.dicom.frame_stack`) has
    every frame at that one position (``FrameRef.place``): written as ``count`` time points
    of one slice (a 4-D volume ``(T, 1, H, W)``, the cine's step its ``repetition_time``, NPY
    as NIfTI), its slice axis along the normal by SpacingBetweenSlices or SliceThickness (1
    mm without either, said by ``convert``'s one-slice note), as one slice of a series is.
    It was written with an identity affine and qform/sform codes 0 ("affine unknown"), its
    place lost.
    """
    if f.place is None or f.orientation is None or f.pixel_spacing is None:
        return None
    iop, deviation = orthonormal_orientation(f.orientation)
    if deviation > ORTHONORMAL_LIMIT:  # no rigid plane (parallel cosines): not placed
        return None
    thick = f.slice_step or 1.0
    affine = affine_lps(iop, f.place, f.pixel_spacing, thick)
    depth = f" ({thick:g} mm thick)" if f.slice_step else ""  # else one_slice_note: 1 mm
    said = (
        f"cine: {count} frames of one file at one place over time, {step:.4g} ms apart, "
        f"written as time points of one slice at its ImagePositionPatient{depth}"
    )
    return affine, said


def _one_file(frames: list[FrameRef], order: list[int]) -> bool:
    """Whether ``order`` is consecutive frames of one file, in the file's order."""
    refs = [frames[k] for k in order]
    if len({f.source for f in refs}) != 1:
        return False
    return [f.frame for f in refs] == list(range(refs[0].frame, refs[0].frame + len(refs)))


def _cine_step(frames: list[FrameRef], order: list[int]) -> tuple[float | None, str]:
    """The time step (ms) of a cine: consecutive frames of one file with frame times."""
    if not _one_file(frames, order):
        return None, ""
    return cine_step([frames[k].frame_time for k in order])


def flat_volumes(
    frames: list[FrameRef], order: list[int], info: list[str] | None = None
) -> list[VolumePlan]:
    """Images without slice geometry, one volume per image size and pixel spacing, and view.

    A radiograph series holds views of different sizes (a portrait PA and a landscape
    lateral) and magnifications: stacked as one volume it was refused ("frames of one volume
    differ in size"), and views of one size but another spacing took the first one's. Each
    size and spacing is now its own volume (in ``order`` of their first image), said.

    An NM file's frames of several detectors or energy windows (a whole-body scan's anterior
    and posterior views, PS3.3 C.8.4.8) are views, as its FrameIncrementPointer vectors say:
    stacked as slices of one volume, they made a "volume" of two unrelated views. Each view is
    its own volume; the file says which frame is which, so that split is recorded in ``info``
    (no problem), as tagged co-located stacks are.
    """
    cines = _cine_files(frames, order)
    if cines is not None and (stacked := stacked_cines(frames, cines)) is not None:
        return [stacked]  # one slice a file, evenly along the normal: one 4-D volume
    if cines is not None:
        note = (f"split: {len(cines)} cine files among images without slice geometry, one volume "
                "each (each file's frames are one place over time)")  # fmt: skip
        return [replace(v, problems=(note, *v.problems))
                for g in cines for v in flat_volumes(frames, g, info)]  # fmt: skip
    told = _told_apart(frames, order)
    if told is not None:
        key, stacks = told
        note = (f"split: {len(stacks)} stacks of frames without slice geometry told apart by "
                f"{key}, one volume each (frames in acquisition order within each)")  # fmt: skip
        return [replace(v, problems=(note, *v.problems))
                for g in stacks for v in flat_volumes(frames, g, info)]  # fmt: skip
    groups: dict[tuple[object, ...], list[int]] = {}
    for k in order:
        f = frames[k]
        spacing = None if f.pixel_spacing is None else tuple(round(v, 6) for v in f.pixel_spacing)
        groups.setdefault((f.rows, f.columns, spacing, _view(f)), []).append(k)
    views = {key[3] for key in groups}
    if len(views) > 1 and info is not None:
        info.append(_views_note(views))
    if len(groups) == 1:
        return [flat_volume(frames, order)]
    sizes = {key[:3] for key in groups}
    if len(sizes) == 1:
        return [flat_volume(frames, g) for g in groups.values()]
    note = (f"split: {len(sizes)} image sizes or pixel spacings among images without slice "
            "geometry, one volume each")  # fmt: skip
    return [replace(v, problems=(note, *v.problems))
            for v in (flat_volume(frames, g) for g in groups.values())]  # fmt: skip


def _cine_files(frames: list[FrameRef], order: list[int]) -> list[list[int]] | None:
    """Each cine file's frames apart (the other images together, last), or ``None``.

    Two cine loops of one series (ultrasound clips) were stacked end to end as the frames of
    one volume "without ImagePositionPatient", and their frame time was lost: a cine is a
    file of frames over time (a usable FrameTime, :mod:`pipeline.dicom.cine`), so each is its
    own volume, as a lone cine is.
    """
    files: dict[str, list[int]] = {}
    for k in order:
        files.setdefault(frames[k].source, []).append(k)
    if len(files) < 2:
        return None
    cine = {s for s, found in files.items() if _cine_step(frames, found)[0] is not None}
    if not cine:
        return None
    rest = [k for s, found in files.items() if s not in cine for k in found]
    return [found for s, found in files.items() if s in cine] + ([rest] if rest else [])


_VIEW_KEY = STACK_KEYS.index("FrameIncrementPointer")


def _told_apart(frames: list[FrameRef], order: list[int]) -> tuple[str, list[list[int]]] | None:
    """The first stack key whose values part ``order`` into stacks of 2 or more frames each.

    Frames without slice geometry (an Enhanced MR without its orientation, dcm2niix #372)
    that the file tells apart by time point, echo or component (PS3.3 C.7.6.16.2.2) were
    one volume of every time point's frames in stored order ([0, 100, 1, 101, 2, 102] for
    slices 0-2 of time points 0 and 1), said only as "no geometry". A cine whose every frame
    is its own time point (stacks of one) stays one volume; NM views are split by
    :func:`flat_volumes` itself.
    """
    for j, key in enumerate(STACK_KEYS):
        if j == _VIEW_KEY:
            continue
        stacks: dict[object, list[int]] = {}
        for k in order:
            stacks.setdefault(_stack_value(frames[k], j), []).append(k)
        if len(stacks) > 1 and None not in stacks and min(map(len, stacks.values())) > 1:
            return key, list(stacks.values())
    return None


def _view(f: FrameRef) -> object:
    """An NM frame's view (its detector, energy window...), ``None`` for other images.

    See :func:`pipeline.dicom.nm_frames.frame_vectors`.
    """
    return _stack_value(f, _VIEW_KEY)


def _stack_value(f: FrameRef, j: int) -> object:
    """The frame's value of ``STACK_KEYS[j]``, ``None`` when it has none."""
    return f.stack_values[j] if len(f.stack_values) > j else None


def _views_note(views: set[object]) -> str:
    """The split, each view in brackets.

    The note is joined with others by ``"; "`` (which separated the views too until
    2026-12-03), and a view's vectors by ``", "``.
    """
    shown = ", ".join(f"[{v}]" for v in sorted(str(v) for v in views if v is not None))
    return f"split: {len(views)} NM views by FrameIncrementPointer ({shown}), one volume each"
