"""Where the frames of a classic multi-frame file lie when the file gives one position.

A classic (not Enhanced) multi-frame image has one ImagePositionPatient and
ImageOrientationPatient for all its frames. An NM reconstruction stacks its frames from them
along the normal every SpacingBetweenSlices (0018,0088) by definition
(:func:`pipeline.dicom.nm_frames.nm_geometry`). CT, MR and PET files of a classic IOD that
hold several frames (cone-beam CT, research reconstructions, converted volumes: Slicer #6773
and #7496, cornerstone3D PR #1285) do the same without the standard's say: GDCM/ITK and
MeVisLab read them so, Slicer's DICOM loader took 1 mm. radpipe read them as "no geometry:
images without ImagePositionPatient", which named the one attribute they had, and wrote a
frame step of 1 for their SpacingBetweenSlices. Such frames are now stacked like an NM
reconstruction's when the file gives a SpacingBetweenSlices and is no cine (a usable
FrameTime or FrameTimeVector: frames at one place over time), and a note says what the
placement rests on; without a SpacingBetweenSlices the frames stay unplaced, and the note
says why.

Frames that are time points are never stacked as slices, whatever SpacingBetweenSlices the
header holds (MR images carry one): a FrameIncrementPointer (0028,0009) that names only
FrameTime or FrameTimeVector says so (PS3.3 C.7.6.6.1.1) even when their values are unusable,
and so does a CardiacNumberOfImages (0018,1090) equal to the frame count without a pointer
(the phases of a cardiac cine, one per frame). Such a file's frames were stacked along the
normal every SpacingBetweenSlices, a cine written as a volume of slices, said to be placed.
Nor are frames a FrameIncrementPointer tells apart by anything else (FrameLabelVector, the
projection angles of a rotational XA run, DisplayWindowLabelVector: PS3.3 C.8.6.3, C.8.7.5).
A cine's one ImagePositionPatient is where every frame lies (``FrameStack.place``:
:func:`pipeline.dicom.flat.flat_volume` writes its affine); it was written as "affine unknown".
A FrameIncrementPointer that names SliceLocationVector (0018,2005, one SliceLocation a frame;
the Multi-frame SC modules, PS3.3 C.8.6.3) places frame k at the position plus
``SliceLocationVector[k] - SliceLocationVector[0]`` along the normal, and says so: the
standard fixes no direction for a SliceLocation (C.7.6.2.1.2), so that sign is an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.dicom.cine import cine_intervals, cine_step, pointer_tags
from pipeline.dicom.decode import frame_count
from pipeline.dicom.nm_frames import nm_geometry
from pipeline.dicom.values import lenient_number, numbers_or_none

__all__ = ["ONE_POSITION", "FrameStack", "frame_stack"]

Point = tuple[float, float, float]
_FRAME_TIME, _FRAME_TIME_VECTOR, _SLICE_LOCATIONS = "00181063", "00181065", "00182005"
#: Modalities whose image IODs hold the Image Plane module (PS3.3 A.4 CT, A.4 MR, A.21 PET):
#: a US or XA cine's ImagePositionPatient is no standard attribute of its IOD, so not trusted.
_PLANE_MODALITIES = ("CT", "MR", "PT")
_TIME_NAMES = {
    _FRAME_TIME: "FrameTime (0018,1063)",
    _FRAME_TIME_VECTOR: "FrameTimeVector (0018,1065)",
}

#: The start of the note on a classic multi-frame file whose frames share one position.
ONE_POSITION = "one ImagePositionPatient for the"


@dataclass(frozen=True)
class FrameStack:
    """Each frame's position (``None``: not placed), the orientation, and what to say.

    ``place``: the one position of a cine's frames (time points at one place), else ``None``.
    """

    positions: list[Point] | None
    orientation: tuple[float, ...] | None
    note: str = ""
    place: tuple[float, float, float] | None = None


def frame_stack(ds: Any) -> FrameStack | None:
    """The frames of a multi-frame file placed from its one position, or ``None``.

    ``None`` for a single frame, an Enhanced object (each frame has its own position), an
    RT Dose grid (GridFrameOffsetVector), or a file without a usable ImagePositionPatient
    and ImageOrientationPatient. An NM reconstruction's frames are placed without a note by
    its SpacingBetweenSlices (by its SliceThickness, noted, without one:
    :func:`~pipeline.dicom.nm_frames.nm_geometry`); other files' by the SliceLocationVector
    their FrameIncrementPointer names, else by a SpacingBetweenSlices (``positions`` ``None``
    without). A cine's frames are not placed, its one position is its ``place``; time points
    without a usable time step are neither, and noted (see the module).
    """
    nm = nm_geometry(ds)
    if nm is not None:
        return FrameStack(*nm)
    n = frame_count(ds)
    if n < 2 or "PerFrameFunctionalGroupsSequence" in ds or "GridFrameOffsetVector" in ds:
        return None
    if "SharedFunctionalGroupsSequence" in ds or str(ds.get("Modality", "")).upper() == "NM":
        return None
    ipp = numbers_or_none(ds.get("ImagePositionPatient"), 3)
    iop = numbers_or_none(ds.get("ImageOrientationPatient"), 6)
    normal = None if ipp is None or iop is None else _unit_normal(iop)
    said = f"{ONE_POSITION} {n} frames of a classic multi-frame image"
    offsets = _located(ds, n) if normal is not None else None
    if offsets is not None and ipp is not None and normal is not None:  # before any time
        note = (f"{said}: frame k placed at it + SliceLocationVector (0018,2005) [k] - [0] mm "
                "along the slice normal (the standard gives a SliceLocation no direction: the "
                "normal's assumed)")  # fmt: skip
        return FrameStack(_along(ipp, normal, offsets), tuple(iop or ()), note)
    times = cine_intervals(ds, n)
    if times is not None and cine_step(times)[0] is not None:  # frames of one place over time
        planed = str(ds.get("Modality", "")).strip().upper() in _PLANE_MODALITIES
        place = None if ipp is None or iop is None or not planed else (ipp[0], ipp[1], ipp[2])
        return FrameStack(None, None, "", place)
    if ipp is None or iop is None:
        return None
    if (why := _time_points(ds, n)) is not None:
        return FrameStack(None, None, f"{said}, {why}: time points, not stacked as slices "
                          "by SpacingBetweenSlices, not placed, time step unknown")  # fmt: skip
    if (named := _other_vectors(ds)) is not None:
        return FrameStack(None, None, f"{said}, whose FrameIncrementPointer (0028,0009) names "
                          f"{named}: frames that differ by it, not slices, so not stacked by "
                          "SpacingBetweenSlices, not placed")  # fmt: skip
    if normal is None:
        return None
    step = lenient_number(ds.get("SpacingBetweenSlices"))
    if not step or not np.isfinite(step):
        return FrameStack(None, tuple(iop), f"{said}, and no SpacingBetweenSlices (0018,0088) "
                          "to stack them by: its frames are not placed")  # fmt: skip
    note = (f"{said}: frame k placed at it + k x SpacingBetweenSlices (0018,0088) {step:g} mm "
            "along the slice normal, as ITK and an NM reconstruction read it")  # fmt: skip
    return FrameStack(_along(ipp, normal, [k * step for k in range(n)]), tuple(iop), note)


def _unit_normal(iop: list[float]) -> np.ndarray | None:
    normal = np.cross(np.asarray(iop[:3], dtype=float), np.asarray(iop[3:], dtype=float))
    length = float(np.linalg.norm(normal))
    return None if length < 1e-6 else normal / length


def _along(ipp: list[float], normal: np.ndarray, offsets: list[float]) -> list[Point]:
    points = [np.asarray(ipp, dtype=float) + d * normal for d in offsets]
    return [(float(p[0]), float(p[1]), float(p[2])) for p in points]


def _time_points(ds: Any, n: int) -> str | None:
    """Why the frames are time points though their times are unusable, or ``None``."""
    if "FrameIncrementPointer" in ds:
        named = {f"{int(t):08X}" for t in pointer_tags(ds.get("FrameIncrementPointer"))}
        if named and named <= {_FRAME_TIME, _FRAME_TIME_VECTOR}:
            shown = " and ".join(_TIME_NAMES[t] for t in sorted(named))
            return (
                f"whose FrameIncrementPointer (0028,0009) names {shown}, missing, not one "
                "value a frame or not above 0"
            )
        return None
    phases = lenient_number(ds.get("CardiacNumberOfImages"))
    if phases == n:
        return (
            f"with CardiacNumberOfImages (0018,1090) {n} and no usable FrameTime "
            "(0018,1063): the phases of a cardiac cine"
        )
    return None


def _other_vectors(ds: Any) -> str | None:
    """What a FrameIncrementPointer names when that is neither time nor slice location.

    Frame labels, projection angles, display windows or pages (PS3.3 C.8.6.3 Multi-frame SC;
    C.8.7.5 XA): frames of one plane that differ by it, never slices along the normal.
    ``None`` without a pointer, or when it names a time or SliceLocationVector.
    """
    from pydicom.datadict import keyword_for_tag

    tags = pointer_tags(ds.get("FrameIncrementPointer"))
    named = {f"{t:08X}" for t in tags}
    if not named or named & {_FRAME_TIME, _FRAME_TIME_VECTOR, _SLICE_LOCATIONS}:
        return None
    return " and ".join(f"{keyword_for_tag(t) or 'an unknown tag'} ({t >> 16:04X},{t & 0xFFFF:04X})"
                        for t in tags)  # fmt: skip


def _located(ds: Any, n: int) -> list[float] | None:
    """Offsets along the normal from a SliceLocationVector the FrameIncrementPointer names."""
    named = {f"{int(t):08X}" for t in pointer_tags(ds.get("FrameIncrementPointer"))}
    values = numbers_or_none(ds.get("SliceLocationVector"), n)
    if _SLICE_LOCATIONS not in named or values is None:
        return None
    return [float(v) - float(values[0]) for v in values]
