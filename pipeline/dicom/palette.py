"""PALETTE COLOR images (PS3.3 C.7.6.3.1.5).

The stored indices go through the palette at the depth its entries really have.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from pipeline.errors import DicomError

__all__ = ["apply_palette", "palette_top"]


def apply_palette(
    ds: Dataset, indices: np.ndarray, source: str, notes: list[str] | None = None
) -> np.ndarray:
    """RGB ``(..., 3)`` through the palette; entries keep the depth their values show.

    PS3.3 C.7.6.3.1.5: some writers store 8-bit entries in 16-bit words, padding the high
    bits (pydicom then returns uint16 holding 0..255). Those come back as uint8, so that
    they are not scaled as 16-bit values; 16-bit words under an 8-bit descriptor whose values
    need more than 8 bits are kept as 16-bit, with a note. Other writers say 16 bits per
    entry over entries that are all <= 255; pydicom's ``apply_color_lut`` keeps them as
    16-bit values (a near-black image), dcmtk with its LUT depth check (``DiLookupTable::
    checkTable``, ``CIF_CheckLutBitDepth``) reads them as 8-bit; so does radpipe, with a note,
    judging by the whole table, not by the entries one image happens to use.
    """
    from pydicom.pixels import apply_color_lut

    try:
        rgb = np.asarray(apply_color_lut(indices, ds))
    except Exception as err:
        raise DicomError(source, f"PALETTE COLOR lookup failed: {err}") from err
    try:
        nominal = int(ds.RedPaletteColorLookupTableDescriptor[2])
    except (AttributeError, IndexError, TypeError, ValueError):
        return rgb
    if rgb.dtype.itemsize != 2 or nominal not in (8, 16):
        return rgb
    top = int(rgb.max(initial=0)) if nominal == 8 else palette_top(ds)
    if top <= 0xFF and (nominal == 8 or top > 0):
        if nominal == 16 and notes is not None:
            notes.append(f"palette LUT Descriptor says 16-bit entries but they reach only {top}; "
                         "read as 8-bit entries, as dcmtk does")  # fmt: skip
        return rgb.astype(np.uint8)
    if nominal == 8 and notes is not None:
        notes.append("palette LUT Descriptor says 8-bit entries but the 16-bit entries "
                     "hold larger values; read as 16-bit entries")  # fmt: skip
    return rgb


def palette_top(ds: Dataset) -> int:
    """The largest entry of the whole palette (segmented or not), over every index it maps."""
    from pydicom.pixels import apply_color_lut

    count, first = (int(v) for v in ds.RedPaletteColorLookupTableDescriptor[:2])
    first = max(first, 0)  # a signed (SS) descriptor's negative first index maps nothing here
    every = np.arange(first, min(first + (count or 2**16), 2**16), dtype=np.uint16)
    return int(np.asarray(apply_color_lut(every, ds)).max(initial=0))
