"""Exact integer modality values: the frames whose ``stored + intercept`` is the whole story.

The fast paths of :func:`pipeline.dicom.read.render` (float32 by a cast and an integer shift)
and of :func:`pipeline.dicom.volume.read_volumes` (``exact_integers``: volumes filled straight
into int16/uint16) both rest on one test, :func:`exact_modality`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pipeline.ops.voi import WindowSpec

DicomImage = Any  # pipeline.dicom.read.DicomImage (not imported: read imports this module)


def _integer_modality(
    image: DicomImage, frame: int, window: WindowSpec, out: str
) -> np.ndarray | None:
    """float32 modality values by a cast and an integer shift when exact, else ``None``.

    See :func:`exact_modality`: every result is an integer below 2**24, so float32 holds it
    exactly and the lookup-table path gives the same bytes.
    """
    exact = exact_modality(image, frame, window) if out == "float32" else None
    return None if exact is None else float32_values(*exact)


def float32_values(stored: np.ndarray, intercept: int) -> np.ndarray:
    """``stored + intercept`` as float32 by a cast and an integer shift (exact below 2**24)."""
    result = stored.astype(np.float32)
    if intercept:
        result += np.float32(intercept)
    return result


def exact_modality(
    image: DicomImage, frame: int, window: WindowSpec
) -> tuple[np.ndarray, int] | None:
    """``(stored, intercept)``: the frame's modality values are ``stored + intercept``, exactly.

    Holds when there is no window (``none``, or ``header`` on a file without one), no Modality
    LUT, RescaleSlope 1 and an integral RescaleIntercept (below 2**23 in size) on stored
    integers of at most 16 bits; else ``None``. ``stored`` is the ``(H, W)`` frame as stored
    (int8/uint8/int16/uint16, not copied).
    """
    if image.is_color:
        return None
    info = image.frames[frame]
    stored = image.stored[frame]
    if image.modality_lut is not None or info.slope != 1.0:
        return None
    if not float(info.intercept).is_integer() or abs(info.intercept) >= 2**23:
        return None
    if stored.dtype.kind not in "ui" or stored.dtype.itemsize > 2:
        return None
    none = window.mode == "none" or (
        window.mode == "header" and info.window is None and info.voi_lut is None
    )
    return (stored, int(info.intercept)) if none else None
