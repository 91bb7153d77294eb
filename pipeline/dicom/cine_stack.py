"""Cine files of one series at several places: one 4-D volume of time points of their slices.

A cardiac short-axis cine is often filed as one classic multi-frame MR file per slice, each
a cine at its one ImagePositionPatient (:func:`pipeline.dicom.flat.placed_cine`). Each file
was its own volume ("split: 12 cine files among images without slice geometry, one volume
each"), a stack of 12 single-slice 4-D NIfTIs where a user expects one ``(T, S, H, W)``.
Files of one orientation, size, pixel spacing, frame count and time step whose positions lie
along the normal evenly (within :data:`~pipeline.dicom.volume_plan.POSITION_TOLERANCE`, no
in-plane offset) are now one volume: time point t holds every file's frame t, sorted along
the normal, said. Any other set stays one volume per file, as before.
"""

from __future__ import annotations

import numpy as np

from pipeline.dicom.cine import cine_step
from pipeline.dicom.frame_ref import FrameRef
from pipeline.dicom.geometry import affine_lps, orthonormal_orientation
from pipeline.dicom.volume_plan import POSITION_TOLERANCE, VolumePlan

__all__ = ["stacked_cines"]


def stacked_cines(frames: list[FrameRef], files: list[list[int]]) -> VolumePlan | None:
    """One 4-D plan of the cine ``files`` (each a file's frames in order), or ``None``."""
    firsts = [frames[f[0]] for f in files]
    ref = firsts[0]
    ps, orientation = ref.pixel_spacing, ref.orientation
    if len(files) < 2 or ps is None or orientation is None:
        return None
    if any(f.place is None or f.orientation is None or f.pixel_spacing is None for f in firsts):
        return None
    steps = [cine_step([frames[k].frame_time for k in f])[0] for f in files]
    same = all(
        len(f) == len(files[0]) and (g.rows, g.columns) == (ref.rows, ref.columns)
        and np.allclose(g.pixel_spacing or (), ps, atol=1e-6)
        and np.allclose(g.orientation or (), orientation, atol=1e-4)
        for f, g in zip(files, firsts)
    )  # fmt: skip
    if not same or any(s is None for s in steps):
        return None
    iop, _ = orthonormal_orientation(orientation)
    normal = np.cross(np.asarray(iop[:3]), np.asarray(iop[3:]))
    places = [np.asarray(g.place, dtype=float) for g in firsts]
    order = sorted(range(len(files)), key=lambda s: float(places[s] @ normal))
    along = np.array([float(places[s] @ normal) for s in order])
    gap = (along[-1] - along[0]) / (len(order) - 1)
    off_plane = max(float(np.linalg.norm((places[s] - places[order[0]]) - (d - along[0]) * normal))
                    for s, d in zip(order, along))  # fmt: skip
    even = np.abs(along - (along[0] + gap * np.arange(len(order)))).max() <= POSITION_TOLERANCE
    if gap <= POSITION_TOLERANCE or not even or off_plane > POSITION_TOLERANCE:
        return None
    step = float(np.mean([s for s in steps if s is not None]))
    affine = affine_lps(iop, places[order[0]].tolist(), ps, gap)
    note = (f"cine: {len(files)} files of {len(files[0])} frames each, one slice each, "
            f"{gap:.4g} mm apart along the normal: one volume of {len(files[0])} time points "
            f"{step:.4g} ms apart")  # fmt: skip
    return VolumePlan(
        frames=tuple(tuple(files[s][t] for s in order) for t in range(len(files[0]))),
        distances=tuple(float(d - along[0]) for d in along),
        affine=affine,
        spacing=(float(gap), float(ps[0]), float(ps[1])),
        repetition_time=step,
        problems=(note,),
    )
