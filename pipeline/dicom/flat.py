"""Volumes of images without slice geometry (cine, radiographs, pictures filed in a series).

Used by :func:`pipeline.dicom.assemble.plan_series`.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.dicom.cine import cine_step
from pipeline.dicom.frames import FrameRef
from pipeline.dicom.volume_plan import VolumePlan

__all__ = ["flat_volume", "flat_volumes"]


def _missing_geometry(frames: list[FrameRef], order: list[int]) -> str:
    """The attributes that place an image which some of ``order`` lack, as ``"A/B"``.

    Unusable values count as lacking (a PixelSpacing of 0, an unreadable orientation).
    """
    names = (("position", "ImagePositionPatient"), ("orientation", "ImageOrientationPatient"),
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
    if len(order) > 1:  # a single 2-D image (CR, DX, US) needs no volume geometry
        problems.append(f"no geometry: images without {_missing_geometry(frames, order)}, "
                        "affine unknown")  # fmt: skip
        if f.pixel_spacing is None:  # said, not silently claimed as 1 mm
            problems.append("PixelSpacing absent or unreadable: a volume of this series has "
                            "spacing 1 x 1 (pixels, not mm)")  # fmt: skip
    step, note = _cine_step(frames, order)
    return VolumePlan(frames=(tuple(order),), distances=tuple(0.0 for _ in order),
                      affine=None, spacing=(1.0, float(ps[0]), float(ps[1])),
                      problems=tuple(filter(None, [*problems, note])), frame_time=step)  # fmt: skip


def _cine_step(frames: list[FrameRef], order: list[int]) -> tuple[float | None, str]:
    """The time step (ms) of a cine: consecutive frames of one file with frame times."""
    refs = [frames[k] for k in order]
    if len({f.source for f in refs}) != 1:
        return None, ""
    if [f.frame for f in refs] != list(range(refs[0].frame, refs[0].frame + len(refs))):
        return None, ""
    return cine_step([f.frame_time for f in refs])


def flat_volumes(frames: list[FrameRef], order: list[int]) -> list[VolumePlan]:
    """Images without slice geometry, one volume per image size and pixel spacing.

    A radiograph series holds views of different sizes (a portrait PA and a landscape
    lateral) and magnifications: stacked as one volume it was refused ("frames of one volume
    differ in size"), and views of one size but another spacing took the first one's. Each
    size and spacing is now its own volume (in ``order`` of their first image), said.
    """
    groups: dict[tuple[object, ...], list[int]] = {}
    for k in order:
        f = frames[k]
        spacing = None if f.pixel_spacing is None else tuple(round(v, 6) for v in f.pixel_spacing)
        groups.setdefault((f.rows, f.columns, spacing), []).append(k)
    if len(groups) == 1:
        return [flat_volume(frames, order)]
    note = (f"split: {len(groups)} image sizes or pixel spacings among images without slice "
            "geometry, one volume each")  # fmt: skip
    return [replace(v, problems=(note, *v.problems))
            for v in (flat_volume(frames, g) for g in groups.values())]  # fmt: skip
