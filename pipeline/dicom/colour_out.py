"""Colour frames as outputs: RGB scaled to the output type, colour-managed for display.

Colour images take no window (PS3.3 C.11.2); their 8-bit outputs (PNG, RGB volumes) are
the colours a viewer shows, so an ICC profile other than sRGB is applied to them
(:mod:`pipeline.dicom.icc`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.icc import to_srgb
from pipeline.ops.scale import to_unsigned

__all__ = ["colour_depth", "png16_colour_note", "render_color"]

DicomImage = Any  # pipeline.dicom.read.DicomImage (not imported: read imports this module)


def colour_depth(image: DicomImage) -> int:
    """The bits per sample that colour frames are scaled from (PNG, RGB volumes).

    BitsStored's; a PALETTE COLOR LUT's entries' (not the index's); 8 for float samples.
    """
    rgb = image.stored
    if image.photometric == "PALETTE COLOR":  # entries have the LUT's depth, not the index's
        return 8 * min(rgb.dtype.itemsize, 2)
    return min(max(image.bits_stored, 1), 8 * rgb.dtype.itemsize) if rgb.dtype.kind in "ui" else 8


def png16_colour_note(image: DicomImage) -> str | None:
    """What ``--format png16`` did to a colour image: an 8-bit PNG (``None`` for grey).

    PNG holds 16-bit RGB, but Pillow writes RGB with 8 bits per sample only and no other
    PNG writer is installed, so colour frames are written as ``--format png`` writes them;
    until 2026-12-03 without a word, a 12- or 16-bit RGB losing its low bits where the user
    asked for 16.
    """
    if not image.is_color:
        return None
    depth = colour_depth(image)
    done = ("its 8-bit values as they are" if depth == 8 else
            f"its {depth}-bit samples scaled to 8 bits (--format npy keeps them)")  # fmt: skip
    return (
        "colour written as 8-bit PNG: --format png16 writes 16 bits for grey images only "
        f"(no PNG writer here takes 16-bit RGB), {done}"
    )


def render_color(image: DicomImage, frame: int, out: str) -> np.ndarray:
    """RGB scaled from the range BitsStored allows (the same for every frame and file).

    ``float32``: the values; more than 24 bits (32-bit RGB) as stored (uint32, as pydicom
    gives them), since float32 holds whole numbers exactly only up to 2**24. ``uint8``:
    through the image's ICC profile to sRGB when it has one that is not sRGB.
    """
    rgb = image.stored[frame]
    if out == "float32":
        return rgb if rgb.dtype.kind in "ui" and image.bits_stored > 24 else rgb.astype("f4")
    scaled = _scaled(image, rgb, out)
    icc = getattr(image, "icc", None)
    return to_srgb(scaled, icc) if icc is not None and out == "uint8" else scaled


def _scaled(image: DicomImage, rgb: np.ndarray, out: str) -> np.ndarray:
    depth = colour_depth(image)
    if out == "uint8" and depth == 8:
        return rgb.astype(np.uint8)
    if depth == (8 if out == "uint8" else 16) and rgb.dtype.kind in "ui":
        return rgb.astype(np.uint8 if out == "uint8" else np.uint16)
    return to_unsigned(rgb, 8 if out == "uint8" else 16, (0.0, float(2**depth - 1)))
