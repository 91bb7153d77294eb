"""Mask subtraction of X-ray angiography (PS3.3 C.7.6.10): what a viewer shows, told the user.

An XA or XRF cine of a digital subtraction angiography (DSA) stores the native frames, with
a Mask Subtraction Sequence (0028,6100) saying how to subtract them: MaskOperation
(0028,6101) ``AVG_SUB`` (the average of the MaskFrameNumbers (0028,6110) frames subtracted
from the contrast frames in ApplicableFrameRange (0028,6102)) or ``TID`` (each frame minus
the one TIDOffset (0028,6120) before it), and RecommendedViewingMode (0028,1090) ``SUB``
asks a viewer to show the subtracted images, the vessels alone. pydicom, dcm2niix and ITK
give the native frames, and so does radpipe (the subtraction is a display step, after the
Modality LUT, that may shift the mask by MaskSubPixelShift); it was unsaid, so frames that
every angiography reader sees subtracted (bones and soft tissue gone) came out native.
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom.values import numbers_or_none

__all__ = ["subtraction_note"]


def _operation(mask: Any) -> str:
    """One mask item in words: ``AVG_SUB of frames 1-2 from frames 3-10``."""
    operation = str(mask.get("MaskOperation", "") or "").strip().upper() or "unnamed"
    frames = _frames(mask.get("MaskFrameNumbers"))
    said = operation + (f" of frame(s) {frames}" if frames else "")
    if operation == "TID":
        offset = mask.get("TIDOffset")
        said += f" (TIDOffset {offset})" if offset is not None else ""
    applied = numbers_or_none(mask.get("ApplicableFrameRange"), 2)
    if applied is not None:
        said += f" from frames {int(applied[0])}-{int(applied[1])}"
    return said


def _frames(value: Any) -> str:
    values = [value] if isinstance(value, int | float) else list(value or [])
    shown = [str(int(v)) for v in values[:4]]
    return ", ".join(shown) + (", ..." if len(values) > 4 else "")


def subtraction_note(ds: Any) -> str:
    """A note when the image defines a mask subtraction that is not applied; ``""`` otherwise.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds, mask = Dataset(), Dataset()
    >>> mask.MaskOperation, mask.MaskFrameNumbers = "AVG_SUB", [1, 2]
    >>> ds.MaskSubtractionSequence, ds.RecommendedViewingMode = [mask], "SUB"
    >>> subtraction_note(ds)[:96]
    'mask subtraction not applied: RecommendedViewingMode (0028,1090) is SUB, MaskSubtractionSequence'
    """  # noqa: E501
    masks = [m for m in (ds.get("MaskSubtractionSequence") or []) if m is not None]
    mode = str(ds.get("RecommendedViewingMode", "") or "").strip().upper()
    if not masks or mode == "NAT":  # a native view recommended: what is written
        return ""
    how = " and ".join(_operation(m) for m in masks[:3]) + (" and more" if len(masks) > 3 else "")
    asked = "RecommendedViewingMode (0028,1090) is SUB, " if mode == "SUB" else ""
    shown = "shows" if mode == "SUB" else "may show"
    return (
        f"mask subtraction not applied: {asked}MaskSubtractionSequence (0028,6100) {how}: a "
        f"viewer {shown} the frames with the mask subtracted (digital subtraction angiography, "
        "PS3.3 C.7.6.10), written as the native frames stored"
    )
