"""Stored pixel values masked to BitsStored and sign-extended (PS3.5 8.1.1)."""

from __future__ import annotations

import numpy as np


def fix_bits(stored: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Mask values to ``bits_stored`` bits and sign-extend when ``signed`` (PS3.5 8.1.1).

    Idempotent: values already in range come back unchanged. Returns a new array only when
    something changed; the dtype keeps its width (never narrower than the data needs).

    Examples
    --------
    >>> fix_bits(np.array([0xFF0F], np.uint16), 12, signed=True).tolist()
    [-241]
    >>> fix_bits(np.array([0xFFFF], np.uint16), 12, signed=False).tolist()
    [4095]
    """
    width = stored.dtype.itemsize * 8
    if stored.dtype.kind not in "ui" or bits_stored >= width:
        if signed and stored.dtype.kind == "u":
            return stored.view(stored.dtype.str.replace("u", "i"))
        return stored
    unsigned = stored.view(stored.dtype.str.replace("i", "u"))
    mask = np.array((1 << bits_stored) - 1, dtype=unsigned.dtype)
    if not signed:
        if int(unsigned.max(initial=0)) <= int(mask):
            return unsigned
        return unsigned & mask
    as_signed = stored.view(stored.dtype.str.replace("u", "i"))
    half = 1 << (bits_stored - 1)
    if as_signed.size and -half <= int(as_signed.min()) and int(as_signed.max()) < half:
        return as_signed
    # Sign extension: (v & mask) - 2**bits when the sign bit is set, done as xor/subtract.
    sign = np.array(half, dtype=np.int64)
    wide = (unsigned & mask).astype(np.int64)
    out = (wide ^ sign) - sign
    return out.astype(stored.dtype.str.replace("u", "i"))


__all__ = ["fix_bits"]
