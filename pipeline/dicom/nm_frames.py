"""The frames of an NM multi-frame image: where each lies, and which stack it belongs to.

An NM image's frames are indexed by the vectors its FrameIncrementPointer (0028,0009) names
(PS3.3 C.8.4.8, Table C.8-22): a tomographic reconstruction by SliceVector (0054,0080), a
multi-window or gated one also by EnergyWindowVector, DetectorVector, RRIntervalVector,
TimeSlotVector and the like, each value (1..n) of frame ``k`` at index ``k``. A reconstruction
with two energy windows (a dual-isotope SPECT, a scatter window) holds ``2 x NumberOfSlices``
frames: read as one stack, its volume had every slice twice over, in two intensities, or no
geometry at all. :func:`nm_geometry` places each frame by its slice; :func:`frame_vectors`
tells the co-located frames apart (the ``FrameIncrementPointer`` stack key of
:mod:`pipeline.dicom.stack_keys`), so that each window or gate is a volume of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.decode import frame_count
from pipeline.dicom.values import lenient_number, numbers_or_none, slice_size

__all__ = ["frame_vectors", "nm_geometry"]

_SLICE = "SliceVector"
#: The vectors that number the frames of one view's sequence, not views (PS3.3 C.8.4.8).
_RUNNING = {"TimeSliceVector", "TimeSlotVector", "AngularViewVector"}


def _int(value: Any) -> int | None:
    number = lenient_number(value)
    return int(number) if number is not None and number == int(number) else None


def _pointed(ds: Any) -> list[str]:
    """The keywords FrameIncrementPointer (0028,0009) names (one tag or several)."""
    from pydicom.datadict import keyword_for_tag

    pointer = ds.get("FrameIncrementPointer")
    if pointer is None:
        return []
    tags = [pointer] if isinstance(pointer, int) else list(pointer)
    try:
        return [keyword_for_tag(int(t)) for t in tags]
    except (TypeError, ValueError):
        return []


def _vector(ds: Any, keyword: str, n: int) -> list[int] | None:
    """The ``n`` whole numbers of a frame vector, else ``None``."""
    value = ds.get(keyword)
    values = [value] if isinstance(value, (int, float, str)) else list(value or [])
    found = [_int(v) for v in values]
    if len(found) != n or any(v is None for v in found):
        return None
    return found  # type: ignore[return-value]


def _is_nm(ds: Any) -> bool:
    return str(ds.get("Modality", "")).strip().upper() == "NM"


def frame_vectors(ds: Any, frame: int) -> str | None:
    """An NM frame's values in the FrameIncrementPointer vectors that tell views apart.

    For a reconstruction, every vector but SliceVector; for frames without SliceVector
    (STATIC, WHOLE BODY, DYNAMIC, GATED, TOMO projections; PS3.3 C.8.4.8), every vector but
    the one that runs within a view's sequence (:data:`_RUNNING`: time slices, time slots,
    angular views), so a whole-body scan's anterior and posterior detectors, or a static
    image's energy windows, are views of their own, not slices of one volume.
    ``"EnergyWindowVector 2"``, ``"EnergyWindowVector 1, DetectorVector 2"``; ``None`` for
    other images, when there are none (a reconstruction of one window), or when they cannot
    be read.
    """
    if not _is_nm(ds):
        return None
    pointed = _pointed(ds)
    running = {_SLICE} if _SLICE in pointed else _RUNNING
    n, said = frame_count(ds), []
    for keyword in pointed:
        if keyword in running or not keyword.endswith("Vector"):
            continue
        values = _vector(ds, keyword, n)
        if values is None:
            return None
        said.append(f"{keyword} {values[frame]}")
    return ", ".join(said) or None


def _slice_of_frames(ds: Any, n: int, slices: int | None) -> list[int] | None:
    """Each frame's slice (0-based), or ``None``.

    Every frame a slice in order (NumberOfSlices frames), or by SliceVector when the other
    vectors make each (their values, slice) unique.
    """
    if not slices:
        return None
    if slices == n:
        return list(range(n))
    by_slice = _vector(ds, _SLICE, n) if _SLICE in _pointed(ds) else None
    if by_slice is None or not all(1 <= v <= slices for v in by_slice):
        return None
    others = [frame_vectors(ds, f) for f in range(n)]
    if None in others or len(set(zip(others, by_slice))) != n:
        return None
    return [v - 1 for v in by_slice]


def nm_geometry(
    ds: Any,
) -> tuple[list[tuple[float, float, float]] | None, tuple[float, ...], str] | None:
    """Frame positions and orientation of an NM tomographic reconstruction, or ``None``.

    NM multi-frame images (PS3.3 C.8.4.10, C.8.4.11) give ImagePositionPatient and
    ImageOrientationPatient of the first slice in the Detector Information Sequence
    (0054,0022) (else at the top level) and stack the slices along the normal (row x column)
    every SpacingBetweenSlices (0018,0088) mm; a negative spacing stacks them in front of
    the first (OHIF #4352: SPECT shown upside down when the sign was dropped). Every frame
    is a slice (NumberOfSlices (0054,0081) equal to the frame count, as for one RECON TOMO
    window), or frames of several windows or gates are placed by their SliceVector
    (:func:`frame_vectors` tells them apart); frames without either are left without
    geometry. The third value is what the placement rests on when the file gives no
    SpacingBetweenSlices (Type 2 in the NM Reconstruction module, C.8.4.15: present, but
    maybe empty): its frames are placed SliceThickness apart, as ITK (PR #243) takes the
    step of frames without their own positions, and said; without either the frames are not
    placed (positions ``None``) and the note says why. Until 2026-12-03 both were "no
    geometry: images without ImagePositionPatient/ImageOrientationPatient", a frame step of 1,
    for a file that gives both (Slicer #3457: SPECT loaded with a wrong z spacing).
    """
    n = frame_count(ds)
    if not _is_nm(ds) or n < 2 or "PerFrameFunctionalGroupsSequence" in ds:
        return None
    index = _slice_of_frames(ds, n, _int(ds.get("NumberOfSlices")))
    step = lenient_number(ds.get("SpacingBetweenSlices"))
    detectors = ds.get("DetectorInformationSequence") or []
    source = detectors[0] if len(detectors) == 1 else ds
    ipp = numbers_or_none(source.get("ImagePositionPatient"), 3) or numbers_or_none(
        ds.get("ImagePositionPatient"), 3
    )
    iop = numbers_or_none(source.get("ImageOrientationPatient"), 6) or numbers_or_none(
        ds.get("ImageOrientationPatient"), 6
    )
    if index is None or ipp is None or iop is None:
        return None
    normal = np.cross(np.asarray(iop[:3]), np.asarray(iop[3:]))
    if float(np.linalg.norm(normal)) < 1e-6:
        return None
    note = ""
    if not step or not np.isfinite(step):
        step, note = _thickness_step(ds, n)
        if step is None:
            return None, tuple(iop), note
    normal = normal / np.linalg.norm(normal)
    points = [np.asarray(ipp) + k * step * normal for k in index]
    return [(float(p[0]), float(p[1]), float(p[2])) for p in points], tuple(iop), note


def _thickness_step(ds: Any, n: int) -> tuple[float | None, str]:
    """The step of an NM reconstruction without SpacingBetweenSlices, and the note saying so.

    The note starts as :data:`pipeline.dicom.frame_stack.ONE_POSITION` does: the file gives
    one position for all its frames.
    """
    said = (f"one ImagePositionPatient for the {n} frames of an NM reconstruction (its "
            "first slice's), and no SpacingBetweenSlices (0018,0088)")  # fmt: skip
    thickness = slice_size(ds.get("SliceThickness"))
    if thickness is None:
        return None, f"{said} nor SliceThickness (0018,0050) to stack them by: not placed"
    return thickness, (
        f"{said}: frame k placed at it + k x SliceThickness (0018,0050) {thickness:g} mm "
        "along the slice normal, as ITK takes it (slices with a gap or an "
        "overlap between them would be misplaced)"
    )
