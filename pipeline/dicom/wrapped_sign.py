"""Signed CT values stored under PixelRepresentation 0: said, never silently rendered.

Some scanners and anonymisers write two's complement CT values (air -1000, padding -2000)
but PixelRepresentation (0028,0103) 0: -1000 is then read as 64536, and after the rescale
the air of the scan is 64536 HU. pydicom and dcmtk read the stored values as the header
says (PS3.5 8.1.1: the representation is the header's to give), and so does radpipe: the
values are not changed, since an unsigned reading is what the file states and a wrong
guess would corrupt a true one. :func:`wrapped_sign_note` tells the user instead, when the
values cannot be CT values as stored:

- the largest stored value lies in the top eighth of the BitsStored range and gives more
  than +30000 HU after the rescale (no CT value reaches it; an extended CT scale stops at
  about 30700), or
- more than half of the pixels have the high bit of BitsStored set (most of a CT image is
  air and soft tissue: read unsigned, that is more than 2**(BitsStored-1) above the lowest
  value).

The note gives the range the values would have read as signed, so the user can judge.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.units import value_unit

__all__ = ["wrapped_sign_note", "wrapped_sign_notes"]

#: more than any CT scale's largest value (an extended scale stops near 30710 HU)
MAX_HU = 30000.0


def wrapped_sign_notes(
    ds: Any, stored: np.ndarray, bits: int, frame: Any, *, signed: bool, top: int | None = None
) -> list[str]:
    """:func:`wrapped_sign_note` with frame 0's rescale (a :class:`FrameInfo`), as a list.

    ``top``: the largest stored value when known (no second pass over the pixels).
    """
    note = wrapped_sign_note(ds, stored, bits, frame.slope, frame.intercept, signed=signed, top=top)
    return [note] if note else []


def wrapped_sign_note(
    ds: Any,
    stored: np.ndarray,
    bits: int,
    slope: float,
    intercept: float,
    *,
    signed: bool,
    top: int | None = None,
) -> str:
    """A note when ``stored`` (unsigned CT values) looks like signed values wrapped, else "".

    ``slope`` and ``intercept``: the rescale (frame 0's). Only a monochrome image whose values
    are HU (:func:`pipeline.dicom.units.value_unit`) by a rescale, not a Modality LUT, is
    judged.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.Modality, ds.PhotometricInterpretation = "CT", "MONOCHROME2"
    >>> ds.RescaleSlope, ds.RescaleIntercept = 1, 0  # a CT's Type 1 rescale: HU
    >>> stored = np.array([64536, 64536, 64536, 1040], np.uint16)  # -1000 HU air, 1040
    >>> wrapped_sign_note(ds, stored, 16, 1.0, 0.0, signed=False).split(":")[0]
    'PixelRepresentation (0028,0103) is 0 (unsigned) but the values look signed'
    """
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if signed or stored.dtype.kind != "u" or not stored.size or bits < 2:
        return ""
    if not photometric.startswith("MONOCHROME") or "ModalityLUTSequence" in ds:
        return ""
    if value_unit(ds) != "HU":
        return ""
    top = int(stored.max()) if top is None else top
    high = 1 << (bits - 1)
    if top < high:
        return ""
    top_hu = top * slope + intercept
    wrapped = int(np.count_nonzero(stored >= high))
    near_top = top >= (1 << bits) - (1 << (bits - 3))
    if not ((near_top and top_hu > MAX_HU) or wrapped * 2 > stored.size):
        return ""
    as_signed = np.where(stored >= high, stored.astype(np.int64) - (1 << bits), stored)
    low, up = (float(v) * slope + intercept for v in (as_signed.min(), as_signed.max()))
    return (
        "PixelRepresentation (0028,0103) is 0 (unsigned) but the values look signed: "
        f"{wrapped:,} of {stored.size:,} stored values have the high bit ({bits - 1}) set and "
        f"the largest gives {top_hu:g} HU, while read as signed ({bits}-bit two's complement) "
        f"they would span {low:g} to {up:g} HU. The values are kept as the header states them "
        "(a known scanner or anonymiser fault: check the source, or set PixelRepresentation "
        "to 1 if the signed reading is right)"
    )
