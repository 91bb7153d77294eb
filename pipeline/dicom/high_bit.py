"""HighBit (0028,0102) other than BitsStored - 1, read the same way by ``convert`` and ``inspect``.

Current DICOM requires HighBit = BitsStored - 1 (PS3.5 8.1.1); older editions let the stored
bits sit higher in the cell (12 bits in bits 4-15). Native grey values whose low bits are all
clear and some bits above BitsStored set are shifted down; all other values (and every
decoder's output: pydicom reads the low BitsStored bits) are read from the low BitsStored bits.
A note says which; ``inspect`` says the same
(:func:`pipeline.dicom.header_notes.header_high_bit_notes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.syntaxes import GE_PRIVATE, NATIVE_LITTLE_ENDIAN

__all__ = ["high_bit_problem", "native_grey_dtype", "read_high_bit"]

_GREY = {"MONOCHROME1", "MONOCHROME2"}


def high_bit_problem(high: int, bits_stored: int, width: int) -> str:
    """``HighBit (0028,0102) 11 is not BitsStored - 1 (15)``, or "" when it is.

    ``width``: the bits of a sample's cell (BitsAllocated, or the decoded array's).
    """
    if high == bits_stored - 1:
        return ""
    what = f"HighBit (0028,0102) {high} is not BitsStored - 1 ({bits_stored - 1})"
    if high >= width:  # past the cell (BitsAllocated): no bits there to shift down from
        what += f" and not below BitsAllocated ({width})"
    return what


def native_grey_dtype(ds: Any, bits_allocated: int, samples: int, signed: bool) -> Any:
    """The dtype ``convert`` reads native grey values with (``numpy.frombuffer``), else ``None``.

    Native little endian (or GE's private big-endian implicit syntax), one sample of 8, 16 or
    32 bits, MONOCHROME1/2, in PixelData; everything else goes through pydicom's decoders.
    """
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if "PixelData" not in ds or syntax not in NATIVE_LITTLE_ENDIAN | {GE_PRIVATE} or samples != 1:
        return None
    if bits_allocated not in (8, 16, 32) or photometric not in _GREY:
        return None
    order = ">" if syntax == GE_PRIVATE else "<"  # see pipeline.dicom.syntaxes.GE_PRIVATE
    return np.dtype(f"{order}{'i' if signed else 'u'}{bits_allocated // 8}")


def read_high_bit(arr: np.ndarray, high: int | None, bits_stored: int, notes: list[str]) -> Any:
    """Grey values ``arr`` read as HighBit ``high`` says (see the module's docstring).

    A note joins ``notes`` when ``high`` is not BitsStored - 1.
    """
    width = arr.dtype.itemsize * 8
    if high is None or high == bits_stored - 1 or arr.dtype.kind not in "ui":
        return arr
    what = high_bit_problem(high, bits_stored, width)
    shift = high - (bits_stored - 1)
    unsigned = arr.view(arr.dtype.str.replace("i", "u"))
    if shift > 0 and high < width:
        low = np.bitwise_and(unsigned, (1 << shift) - 1)
        if not low.any() and np.right_shift(unsigned, bits_stored).any():
            notes.append(f"{what}: values read from bits {shift}-{high}, shifted down by {shift}")
            return np.right_shift(unsigned, shift).view(arr.dtype)
    notes.append(f"{what}: values read from the low {bits_stored} bits")
    return arr
