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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.dicom.cine import cine_intervals, cine_step
from pipeline.dicom.decode import frame_count
from pipeline.dicom.nm_frames import nm_geometry
from pipeline.dicom.values import lenient_number, numbers_or_none

__all__ = ["ONE_POSITION", "FrameStack", "frame_stack"]

#: The start of the note on a classic multi-frame file whose frames share one position.
ONE_POSITION = "one ImagePositionPatient for the"


@dataclass(frozen=True)
class FrameStack:
    """Each frame's position (``None``: not placed), the orientation, and what to say."""

    positions: list[tuple[float, float, float]] | None
    orientation: tuple[float, ...] | None
    note: str = ""


def frame_stack(ds: Any) -> FrameStack | None:
    """The frames of a multi-frame file placed from its one position, or ``None``.

    ``None`` for a single frame, an Enhanced object (each frame has its own position), an
    RT Dose grid (GridFrameOffsetVector), a cine, or a file without a usable
    ImagePositionPatient and ImageOrientationPatient. An NM reconstruction's frames are
    placed without a note by its SpacingBetweenSlices (by its SliceThickness, noted, without
    one: :func:`~pipeline.dicom.nm_frames.nm_geometry`); other files' with one
    (``positions`` ``None`` when there is no SpacingBetweenSlices to stack them by).
    """
    nm = nm_geometry(ds)
    if nm is not None:
        return FrameStack(*nm)
    n = frame_count(ds)
    if n < 2 or "PerFrameFunctionalGroupsSequence" in ds or "GridFrameOffsetVector" in ds:
        return None
    if "SharedFunctionalGroupsSequence" in ds or str(ds.get("Modality", "")).upper() == "NM":
        return None
    times = cine_intervals(ds, n)
    if times is not None and cine_step(times)[0] is not None:
        return None  # frames of one place over time
    ipp = numbers_or_none(ds.get("ImagePositionPatient"), 3)
    iop = numbers_or_none(ds.get("ImageOrientationPatient"), 6)
    if ipp is None or iop is None:
        return None
    normal = np.cross(np.asarray(iop[:3], dtype=float), np.asarray(iop[3:], dtype=float))
    if float(np.linalg.norm(normal)) < 1e-6:
        return None
    step = lenient_number(ds.get("SpacingBetweenSlices"))
    said = f"{ONE_POSITION} {n} frames of a classic multi-frame image"
    if not step or not np.isfinite(step):
        return FrameStack(None, tuple(iop), f"{said}, and no SpacingBetweenSlices (0018,0088) "
                          "to stack them by: its frames are not placed")  # fmt: skip
    normal = normal / np.linalg.norm(normal)
    points = [np.asarray(ipp, dtype=float) + k * step * normal for k in range(n)]
    note = (f"{said}: frame k placed at it + k x SpacingBetweenSlices (0018,0088) {step:g} mm "
            "along the slice normal, as ITK and an NM reconstruction read it")  # fmt: skip
    positions = [(float(p[0]), float(p[1]), float(p[2])) for p in points]
    return FrameStack(positions, tuple(iop), note)
