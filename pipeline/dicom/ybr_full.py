"""YBR_FULL samples of any depth as RGB (PS3.3 C.7.6.3.1.2).

pydicom 3.0's ``convert_color_space`` takes 8-bit samples only (pydicom PR #2068; PR #2212
extended it to 16 bits): wider ones are converted here, by the same equations with CB and CR
centred on ``2**(n - 1)`` for ``n`` stored bits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ybr_full_to_rgb"]


def ybr_full_to_rgb(arr: np.ndarray, bits_stored: int) -> np.ndarray:
    """YBR_FULL samples ``(..., 3)`` of ``bits_stored`` bits as RGB of the same range.

    PS3.3 C.7.6.3.1.2 inverted (ITU-R BT.601 full range), CB and CR centred on
    ``2**(bits_stored - 1)``; rounded and clipped to ``[0, 2**bits_stored - 1]``.

    Examples
    --------
    >>> ybr_full_to_rgb(np.array([[2048, 2048, 2048]], np.uint16), 12).tolist()
    [[2048, 2048, 2048]]
    """
    centre, top = float(1 << (bits_stored - 1)), float((1 << bits_stored) - 1)
    ybr = arr.astype(np.float64)
    y, cb, cr = ybr[..., 0], ybr[..., 1] - centre, ybr[..., 2] - centre
    rgb = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)
    return np.clip(np.rint(rgb), 0.0, top).astype(arr.dtype)
