"""Stored pixel values masked to BitsStored and sign-extended (PS3.5 8.1.1)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.values import integer


def signed_pixels(ds: Any) -> bool:
    """Whether the stored values are read as two's complement (PixelRepresentation 1).

    Not 1-bit pixels (BitsAllocated 1): a bit is 0 or 1, as pydicom and every viewer read
    it; sign-extended it would be 0 or -1, a mask or a binary image turned negative and,
    in integer outputs, inverted (the set pixels black). Such a header is noted by
    :func:`pipeline.dicom.header_checks.check_image_header`.
    """
    signed = int(integer(ds, "PixelRepresentation", 0) or 0) == 1
    return signed and integer(ds, "BitsAllocated", None) != 1


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
        return unsigned if within_bits(stored, bits_stored, False) else unsigned & mask
    if within_bits(stored, bits_stored, True):
        return stored.view(stored.dtype.str.replace("u", "i"))
    half = 1 << (bits_stored - 1)
    # Sign extension: (v & mask) - 2**bits when the sign bit is set, done as xor/subtract.
    sign = np.array(half, dtype=np.int64)
    wide = (unsigned & mask).astype(np.int64)
    out = (wide ^ sign) - sign
    return out.astype(stored.dtype.str.replace("u", "i"))


def within_bits(stored: np.ndarray, bits_stored: int, signed: bool) -> bool:
    """Whether :func:`fix_bits` would leave every value of integer ``stored`` as it is.

    Masking to ``bits_stored`` bits (fewer than the cells hold) and sign extension
    (``signed``) keep such values; told from the extremes, one pass.

    Examples
    --------
    >>> within_bits(np.array([4095], np.uint16), 12, signed=False)
    True
    >>> within_bits(np.array([-2048, 2047], np.int16), 12, signed=True), within_bits(
    ...     np.array([2048], np.int16), 12, signed=True)
    (True, False)
    """
    if not signed:
        unsigned = stored.view(stored.dtype.str.replace("i", "u"))
        return int(unsigned.max(initial=0)) < 1 << bits_stored
    as_signed = stored.view(stored.dtype.str.replace("u", "i"))
    half = 1 << (bits_stored - 1)
    return bool(as_signed.size) and -half <= int(as_signed.min()) and int(as_signed.max()) < half


__all__ = ["fix_bits", "signed_pixels", "within_bits"]
