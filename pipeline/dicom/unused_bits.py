"""Native and RLE grey values with bits set above BitsStored: masked, and said.

PS3.5 8.1.1 makes the bits of a pixel cell above HighBit undefined, so readers mask them
(unsigned) or sign-extend from BitsStored (signed), as pydicom, dcmtk and radpipe do
(vtk-dicom #134). Real files fill those bits in two ways that masking cannot tell apart:
with junk (viewers drew it as bright speckle: cornerstone3D #781, PR #2868), where masking
is right, and with the values' own high bits under a BitsStored that understates the data
(16-bit MR magnitudes above 4095 under BitsStored 12, dcm2niix #343; a CT's metal above
3071 HU), where masking turns 4500 into 404 (3476 HU into -620 HU). radpipe masked such
values without a word; :func:`unused_bits_note` now says how many values masking changed
and what they reach read whole, so the user can judge which it is. An overlay embedded in
those bits (Overlay Bit Position at or above BitsStored) explains them and is not noted.
A signed value stored without sign extension (upper bits clear, PS3.5 allows it) or with it
(upper bits all set, the sign bit set) keeps its value and is not counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.uid import ExplicitVRBigEndian, RLELossless

from pipeline.dicom.bits import within_bits
from pipeline.dicom.codestream import embedded_overlay, keeps_jpeg_samples

__all__ = ["left_unmasked", "masked_here", "unused_bits_note", "unused_bits_notes"]


def unused_bits_note(arr: np.ndarray, bits_stored: int, signed: bool, ds: Any) -> str:
    """Why masking grey stored values ``arr`` to ``bits_stored`` changes some, or "".

    ``arr``: the values as the cells hold them (before :func:`pipeline.dicom.bits.fix_bits`).
    """
    width = arr.dtype.itemsize * 8
    if arr.dtype.kind not in "iu" or not 0 < bits_stored < width or not arr.size:
        return ""
    if within_bits(arr, bits_stored, signed):  # the usual file: one pass, nothing masked
        return ""
    unsigned = arr.view(arr.dtype.str.replace("i", "u"))
    upper = np.right_shift(unsigned, bits_stored)
    lost = upper != 0
    if signed:  # sign-extended negatives (upper bits all set, sign bit set) keep their value
        ones = (1 << (width - bits_stored)) - 1
        sign = np.right_shift(unsigned, bits_stored - 1) & 1
        lost &= ~((upper == ones) & (sign == 1))
    count = int(np.count_nonzero(lost))
    if not count or embedded_overlay(ds, bits_stored) is not None:
        return ""
    whole = (unsigned.view(unsigned.dtype.str.replace("u", "i")) if signed else unsigned)[lost]
    low, top = int(whole.min()), int(whole.max())
    example = top if abs(top) >= abs(low) else low
    mask = (1 << bits_stored) - 1
    masked = int(example) & mask
    if signed and masked >= 1 << (bits_stored - 1):
        masked -= 1 << bits_stored
    span = f"{low} to {top}" if low != top else f"{top}"
    upper_bits, sign_bit = f"bits {bits_stored}-{width - 1}", f"bit {bits_stored - 1}"
    # which bits, and what was done to them, in plain words: "masked to 12 bits" of a signed
    # image hid that they became copies of its sign bit (2026-12-03, dcm_qa_12bit)
    found, done = (
        (f"{upper_bits} that are not copies of the sign {sign_bit}",
         f"{upper_bits} were replaced by copies of {sign_bit} (sign extension: each read as a "
         f"{bits_stored}-bit signed value)")
        if signed
        else (f"{upper_bits} set", f"{upper_bits} were cleared (masked to {bits_stored} bits)")
    )  # fmt: skip
    return (
        f"stored values use bits above BitsStored (0028,0101) {bits_stored}: {count:,} of "
        f"{arr.size:,} values have {found} (read whole: {span}), so {done}, as PS3.5 8.1.1 "
        f"has it (bits above HighBit are undefined) and as pydicom and dcmtk read them "
        f"({example} read as {masked}): right if those bits are junk, wrong if BitsStored "
        "understates the data"
    )


def masked_here(syntax: str | None) -> bool:
    """Whether pydicom is to leave grey values of ``syntax`` unmasked.

    So that :func:`unused_bits_note` sees them as stored: RLE and big-endian native data,
    which pydicom decodes (:func:`pipeline.dicom.bits.fix_bits` masks them as pydicom
    would); little-endian native grey data is read by :func:`numpy.frombuffer` as it is.
    """
    return syntax in (RLELossless, ExplicitVRBigEndian)


def unused_bits_notes(
    arr: np.ndarray, bits_stored: int, signed: bool, ds: Any, native: bool, syntax: str | None
) -> list[str]:
    """:func:`unused_bits_note` as a list, for values read as stored, else empty.

    As stored: ``native`` (read by :func:`numpy.frombuffer`) or of a syntax
    :func:`masked_here`.
    """
    note = unused_bits_note(arr, bits_stored, signed, ds) if native or masked_here(syntax) else ""
    return [note] if note else []


def left_unmasked(syntax: str | None, photometric: str) -> bool:
    """Whether pydicom is to leave one-sample values of ``syntax`` as their cells hold them.

    JPEG samples kept as decoded (:func:`~pipeline.dicom.codestream.keeps_jpeg_samples`),
    grey values of :func:`masked_here`, and PALETTE COLOR indices, which
    :func:`~pipeline.dicom.palette.palette_colours` masks and notes itself.
    """
    return keeps_jpeg_samples(syntax) or masked_here(syntax) or photometric == "PALETTE COLOR"
