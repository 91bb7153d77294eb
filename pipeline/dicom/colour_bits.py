"""Colour samples wider than 8 bits: their unused high bits said, YBR_FULL made RGB.

Grey values with bits set above BitsStored are noted (:mod:`pipeline.dicom.unused_bits`);
colour samples went through pydicom, which masks them without a word (an RGB sample of 5000
under BitsStored 12 became 904). They are now read as stored, noted alike, then masked.

pydicom 3.0 converts YBR_FULL to RGB for 8-bit samples only and refused 16-bit ones in its
own words (``Invalid ndarray.dtype 'uint16' for color space conversion``; pydicom PR #2068
restricted it, PR #2212 extended it to 16 bits). PS3.3 C.7.6.3.1.2 gives the YBR_FULL
equations for 8 bits, CB and CR centred on 128; for ``n`` stored bits they are centred on
``2**(n - 1)``, as in that PR. :func:`ybr_full_to_rgb` inverts them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.bits import fix_bits
from pipeline.dicom.unused_bits import masked_here, unused_bits_notes
from pipeline.dicom.ybr422_full import full_samples
from pipeline.dicom.ybr_full import ybr_full_to_rgb

__all__ = ["colour_options_wide", "colour_values", "ybr_full_to_rgb"]

_YBR = ("YBR_FULL", "YBR_FULL_422")


def colour_options_wide(
    header: dict[str, Any], native: bool, syntax: str | None, ds: Any = None
) -> dict[str, Any]:
    """Decoding options that leave colour samples as stored, for :func:`colour_values`.

    ``header``: the Image Pixel values as pydicom options (``samples_per_pixel``,
    ``bits_allocated``, ...). Unmasked where radpipe notes the unused bits (native or RLE
    data); in YBR where pydicom cannot convert them (more than 8 bits allocated). None for
    native YBR_FULL_422 of three samples a pixel (of the data set ``ds``), which
    :func:`~pipeline.dicom.ybr422_full.read_full_samples` masks and makes RGB itself.
    """
    options: dict[str, Any] = {}
    if header["samples_per_pixel"] < 3 or (ds is not None and full_samples(ds)):
        return options
    bits_alloc, bits_stored = header["bits_allocated"], header["bits_stored"]
    if bits_stored < bits_alloc and (native or masked_here(syntax)):
        options["correct_unused_bits"] = False
    if bits_alloc > 8 and header["photometric_interpretation"] in _YBR:
        options["as_rgb"] = False
    return options


def colour_values(
    arr: np.ndarray, options: dict[str, Any], bits_stored: int, ds: Any, notes: list[str]
) -> np.ndarray:
    """Colour samples decoded with :func:`colour_options_wide`'s ``options``, as RGB.

    Unmasked samples are noted (:func:`~pipeline.dicom.unused_bits.unused_bits_note`) and
    masked to ``bits_stored``; YBR_FULL left by pydicom is converted here.
    """
    if options.get("correct_unused_bits") is False:
        notes.extend(unused_bits_notes(arr, bits_stored, False, ds, True, None))
        arr = fix_bits(arr, bits_stored, signed=False)
    if options.get("as_rgb") is False:
        arr = ybr_full_to_rgb(arr, bits_stored)
    return arr
