"""Volumes of images without slice geometry (cine, radiographs, pictures filed in a series).

Used by :func:`pipeline.dicom.assemble.plan_series`.
"""

from __future__ import annotations

from pipeline.dicom.frames import FrameRef
from pipeline.dicom.volume_plan import VolumePlan

__all__ = ["flat_volume"]


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
    of 1 (not mm).
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
    return VolumePlan(frames=(tuple(order),), distances=tuple(0.0 for _ in order),
                      affine=None, spacing=(1.0, float(ps[0]), float(ps[1])),
                      problems=tuple(problems))  # fmt: skip
