"""Colour series as one RGB volume, placed like a grey one.

dcm2niix writes a colour series (3-D ultrasound, photographed slices, fused secondary
captures) as one RGB24 NIfTI volume (datatype 128); radpipe refused it. Each frame is read
as 8-bit RGB, as PNG writes it (RGB and YBR as RGB; PALETTE COLOR through its LUT; more
than 8 bits per sample scaled from the range BitsStored allows, noted), and each of the
three samples is assembled as a grey volume is, with the same plan: sorted along the normal,
tilt shifts and resampling applied alike, so the geometry is the grey one's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np


def is_rgb_frames(arrays: Sequence[Any], plan: Any) -> bool:
    """Whether the frames of ``plan`` are ``(H, W, 3)`` colour frames."""
    return any(len(arrays[k].shape) == 3 for t in plan.frames for k in t)


def build_rgb_volume(plan: Any, arrays: Sequence[Any], build: Callable[[list[Any]], Any]) -> Any:
    """The :class:`~pipeline.dicom.volume.SeriesVolume` of colour frames.

    Its ``image`` is ``(D, H, W, 3)`` (or ``(T, D, H, W, 3)``) uint8 and ``rgb`` is set.

    ``build`` makes the volume of one sample's grey frames (``build_volume`` with the plan);
    resampled values are rounded to whole 8-bit values.
    """
    used = {k for t in plan.frames for k in t}
    shapes = {arrays[k].shape for k in used}
    if len(shapes) > 1:  # a grey frame among colour ones
        from pipeline.errors import DicomError

        raise DicomError("series", f"frames of one volume differ in size {sorted(shapes)}.")
    channels = [build([a[..., c] if k in used else a for k, a in enumerate(arrays)])
                for c in range(3)]  # fmt: skip
    image = np.stack([np.clip(np.rint(v.image), 0, 255) for v in channels], axis=-1)
    return replace(channels[0], image=image.astype(np.uint8), rgb=True)


def colour_frame_note(depth: int) -> str | None:
    """What reading a colour file into an 8-bit RGB volume changed, if anything.

    ``depth``: the bits its samples are scaled from (:func:`pipeline.dicom.read.colour_depth`).
    Fewer than 8 are scaled up as more are scaled down (a 7-bit 127 is written 255), and were
    unsaid, as were a PALETTE COLOR LUT's 16-bit entries under 8-bit indices (found by
    ``benchmarks/fuzz_oracle.py``).
    """
    if depth == 8:
        return None
    return (f"RGB samples of {depth} bits scaled to 8 bits for the volume (NIfTI's RGB "
            "holds 8 bits per sample), as PNG writes them")  # fmt: skip


__all__ = ["build_rgb_volume", "colour_frame_note", "is_rgb_frames"]
