"""Scaling of display values in [0, 1] to unsigned integer output types."""

from __future__ import annotations

import numpy as np


def to_unsigned(
    image: np.ndarray, bits: int, in_range: tuple[float, float] = (0.0, 1.0)
) -> np.ndarray:
    """Scale ``in_range`` linearly to ``[0, 2**bits - 1]``, rounding to nearest.

    Parameters
    ----------
    image
        Float values; those outside ``in_range`` are clipped (infinities too); NaN
        becomes 0.
    bits
        8 (uint8) or 16 (uint16).

    Examples
    --------
    >>> to_unsigned(np.array([0.0, 0.5, 1.0]), 8).tolist()
    [0, 128, 255]
    """
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16; got {bits}.")
    lo, hi = in_range
    if hi <= lo:
        raise ValueError(f"in_range must be increasing; got {in_range}.")
    top = float(2**bits - 1)
    scaled = (np.asarray(image, dtype=np.float64) - lo) * (top / (hi - lo))
    out = np.clip(np.rint(scaled), 0, top)  # +-inf to the ends
    np.nan_to_num(out, copy=False, nan=0.0)  # NaN (no value) to 0, not an undefined cast
    return out.astype(np.uint8 if bits == 8 else np.uint16)
