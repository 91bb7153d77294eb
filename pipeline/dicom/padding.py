"""Pixel padding (PS3.3 C.7.5.1.1.2): stored values that mark pixels holding no data.

CT scanners fill the corners outside the reconstructed circle with a Pixel Padding Value
(often -2000 stored, -3024 HU), far below air. Modality values keep it (as pydicom's
``apply_modality_lut`` does), but resampling must not mix it with tissue: a linear
interpolation between -3024 HU and 40 HU invents fat and lung values along the edge of the
field of view. Where padding takes part, radpipe's tilt and slice resampling use the nearest
pixel instead (dcm2niix #262, fixed by dcm2niix PR #263 the same way).

The padded pixels keep their value in NPY and NIfTI outputs (a PNG's window clips them), so
statistics over a volume (a z-score, a mean) count thousands of -3024 HU "pixels" that hold
no data, with nothing said. :func:`padding_cell` says it in the manifest's ``padding``
column: how many pixels, and the value they are written as, from which a mask is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from pipeline.dicom import lut
from pipeline.dicom.unsigned_vr import us_or_ss
from pipeline.words import counted


def padding_range(ds: Any, bits: int, signed: bool) -> tuple[int, int] | None:
    """The stored values that are padding, ``(low, high)`` inclusive, or ``None``.

    Pixel Padding Value (0028,0120), up to Pixel Padding Range Limit (0028,0121) when present.
    Both are read as BitsStored bits with the pixel data's sign: a US value written for signed
    data (or SS for unsigned) means the same bit pattern (dcm4che #1368). Absent or unreadable:
    ``None`` (no padding).
    """
    values = []
    for keyword in ("PixelPaddingValue", "PixelPaddingRangeLimit"):
        try:  # raw bytes: VR 'US or SS' left unresolved
            values.append(us_or_ss(ds.get(keyword), lut.little_endian(ds), signed=False))
        except ValueError:
            return None
    if values[0] is None:
        return None
    low = _as_stored(values[0], bits, signed)
    high = low if values[1] is None else _as_stored(values[1], bits, signed)
    return min(low, high), max(low, high)


def lone_limit_note(ds: Any) -> list[str]:
    """A note when Pixel Padding Range Limit (0028,0121) comes without Pixel Padding Value.

    The limit is one end of the padding range, the value the other (PS3.3 C.7.5.1.1.2, and
    C.7.6.3: Pixel Padding Value is required where the limit is present); alone it marks no
    range, so no pixel is taken for padding, which was unsaid.
    """
    if ds.get("PixelPaddingRangeLimit") is None or ds.get("PixelPaddingValue") is not None:
        return []
    return ["PixelPaddingRangeLimit (0028,0121) is given without PixelPaddingValue (0028,0120), "
            "the other end of its range (PS3.3 C.7.5.1.1.2, which C.7.6.3 requires with it): no "
            "pixel is taken for padding"]  # fmt: skip


def float_padding(ds: Any) -> tuple[float, float] | None:
    """The padding value of Float or Double Float Pixel Data, ``(v, v)``, or ``None``.

    FloatPixelPaddingValue (0028,0122) or DoubleFloatPixelPaddingValue (0028,0123) (PS3.3
    C.7.5.1.1.2, dcm2niix #262), compared with the pixel data as float32 or float64; a NaN or
    unreadable value: ``None``.
    """
    for keyword in ("FloatPixelPaddingValue", "DoubleFloatPixelPaddingValue"):
        try:
            value = float(ds.get(keyword))
        except (TypeError, ValueError):
            continue
        if not np.isnan(value):
            return value, value
    return None


def _as_stored(value: int, bits: int, signed: bool) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if signed and value >> (bits - 1) else value


def without_padding(
    stored: np.ndarray, padding: tuple[int, int] | None, span: tuple[int, int] | None
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """The stored values that are not pixel padding (flat) and their span.

    ``stored`` and ``span`` themselves when no value is padding, or every value is. For the
    checks that judge the data's range: a declared padding of -2000 below a
    SmallestImagePixelValue of 0, or 65535 in unsigned CT values, is no sign fault.

    Examples
    --------
    >>> without_padding(np.array([-2000, 0, 40], np.int16), (-2000, -2000), (-2000, 40))
    (array([ 0, 40], dtype=int16), (0, 40))
    """
    if padding is None or span is None or padding[0] > span[1] or span[0] > padding[1]:
        return stored, span
    data = stored[(stored < padding[0]) | (stored > padding[1])]
    return (data, (int(data.min()), int(data.max()))) if data.size else (stored, span)


def padding_mask(stored: np.ndarray, padding: tuple[float, float] | None) -> np.ndarray | None:
    """``(H, W)`` bool: where ``stored`` is padding; ``None`` when none is."""
    if padding is None:
        return None
    mask = (stored >= padding[0]) & (stored <= padding[1])
    return mask if mask.any() else None


def shift_slice(
    values: np.ndarray, offset: tuple[float, ...], mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Shift one slice in-plane by ``offset`` pixels (linear), and its padding mask.

    New pixels get the padding value when the slice has padding, else the slice minimum.
    Output pixels whose linear interpolation would involve a padding pixel take the nearest
    input pixel instead.
    """
    from scipy.ndimage import shift

    if mask is None:
        return shift(values, offset, order=1, mode="constant", cval=float(values.min())), None
    fill = float(values[mask][0])
    linear = shift(values, offset, order=1, mode="constant", cval=fill)
    nearest = shift(values, offset, order=0, mode="constant", cval=fill)
    touched = shift(mask.astype(np.float32), offset, order=1, mode="constant", cval=1.0) > 1e-6
    moved = shift(mask, offset, order=0, mode="constant", cval=True)
    return np.where(touched, nearest, linear), moved


def blend(
    below: np.ndarray,
    above: np.ndarray,
    weight: float,
    masks: tuple[np.ndarray | None, np.ndarray | None],
) -> np.ndarray:
    """``(1 - weight) * below + weight * above``, nearest where either pixel is padding."""
    out = (1 - weight) * below + weight * above
    if masks[0] is None and masks[1] is None:
        return out
    either = np.zeros(below.shape, bool)
    for m in masks:
        if m is not None:
            either |= m
    return np.where(either, below if weight < 0.5 else above, out)


def unpacked_mask(packed: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A bool mask of ``shape`` from what :func:`numpy.packbits` made of it."""
    return np.unpackbits(packed, count=int(np.prod(shape))).astype(bool).reshape(shape)


def padding_cell(
    frames: Iterable[tuple[np.ndarray | None, Any]],
    values: Callable[[Any], np.ndarray],
    resampled: np.ndarray | None = None,
) -> str:
    """The manifest's ``padding`` cell of an output made of ``frames``, or ``""``.

    ``frames``: each frame's padding mask (bit-packed as :func:`numpy.packbits` packs it, or
    a bool array; ``None``: no padding) and the frame as written (its ``values(frame)`` is
    its ``(H, W)`` array); ``values`` is called only on frames with padding. A volume
    ``resampled`` from them (tilt, uneven slices) is counted itself: resampling keeps the
    padding values (nearest pixel, :func:`shift_slice`) and fills shifted-in pixels with them.

    Examples
    --------
    >>> mask = np.array([[True, False], [False, False]])
    >>> padding_cell([(mask, np.array([[-3024.0, 40], [0, 1]]))], np.asarray)
    '1 of 4 pixels are pixel padding (no data): written as -3024'
    """
    count, total, shared, written = 0, 0, 0, np.zeros(0, np.float64)
    for mask, frame in frames:
        shape = tuple(frame.shape)
        total += int(np.prod(shape))
        if mask is None:
            continue
        if mask.dtype != bool:
            mask = unpacked_mask(mask, shape)
        found = int(np.count_nonzero(mask))
        if found:
            count += found
            array = np.asarray(values(frame))
            here = array[mask]
            low, high = float(here.min()), float(here.max())
            data = array[~mask]
            shared += int(np.count_nonzero((data >= low) & (data <= high)))
            written = np.array([low, high] if not written.size else
                               [min(low, written[0]), max(high, written[1])])  # fmt: skip
    if not count:
        return ""
    if resampled is not None:
        inside = (resampled >= written[0]) & (resampled <= written[1])
        count, total, shared = int(np.count_nonzero(inside)), int(resampled.size), 0
    value = f"{written[0]:g}" if written[0] == written[1] else f"{written[0]:g} to {written[1]:g}"
    said = f"{count} of {total} pixels are pixel padding (no data): written as {value}"
    if shared:  # a window or a range's end clipped data onto the padding's written value
        said += (f", the value of {counted(shared, 'data pixel')} too, so it is no exact mask "
                 "of the padding")  # fmt: skip
    return said


__all__ = [
    "blend",
    "float_padding",
    "padding_cell",
    "padding_mask",
    "padding_range",
    "shift_slice",
    "unpacked_mask",
    "without_padding",
]
