"""PALETTE COLOR images (PS3.3 C.7.6.3.1.5).

The stored indices go through the palette at the depth its entries really have.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from pipeline.errors import DicomError

__all__ = ["apply_palette", "check_palette", "palette_top"]


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


_COLOURS = ("Red", "Green", "Blue")


def check_palette(ds: Dataset) -> None:
    """Refuse a PALETTE COLOR image whose lookup tables cannot map its indices.

    Each of red, green and blue needs its Descriptor (0028,1101-1103: entries, first index,
    bits) and its Data (0028,1201-1203) or Segmented Data (0028,1221-1223), the Data as long
    as the Descriptor says (PS3.3 C.7.6.3.1.5-6). A palette given only by
    PaletteColorLookupTableUID (0028,1199), or whose tables were left out with other bulk
    data (OHIF #1350), passed ``inspect`` and failed at ``convert`` in pydicom's words ("No
    suitable Palette Color Lookup Table Module found"); a table shorter than its Descriptor
    gave the indices past its end its last entry, unsaid.

    Raises
    ------
    DicomError
        Naming the colour's elements (the caller fills in the file).
    """
    term = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if term != "PALETTE COLOR":
        return
    for colour in _COLOURS:
        descriptor = f"{colour}PaletteColorLookupTableDescriptor"
        data = f"{colour}PaletteColorLookupTableData"
        given = [k for k in (data, f"Segmented{data}") if k in ds]
        found = ds.get(descriptor)
        if found is None or not given:
            missing = [k for k in (descriptor, data) if k not in ds and not (k == data and given)]
            shown = " and ".join(f"{k} {_tag(k)}" for k in missing)
            raise DicomError("", f"PhotometricInterpretation (0028,0004) is PALETTE COLOR but "
                                 f"{shown} {'are' if len(missing) > 1 else 'is'} missing (a "
                                 "palette referenced only by "
                                 "PaletteColorLookupTableUID, or left out with bulk data): "
                                 "the indices cannot be turned into colours.")  # fmt: skip
        if given == [data]:
            _check_length(colour, found, ds.get(data))


def _tag(keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword) or 0
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _check_length(colour: str, descriptor: object, table: object) -> None:
    """The Data must hold the Descriptor's entries (8-bit ones one per byte or per word)."""
    try:
        count, _, bits = (int(v) for v in descriptor)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise DicomError("", f"{colour}PaletteColorLookupTableDescriptor must hold 3 whole "
                             "numbers (entries, first index, bits).") from None  # fmt: skip
    entries = count or 2**16
    size = len(table) if isinstance(table, bytes) else 0
    fits = size >= 2 * entries or (bits == 8 and size >= entries)
    if not fits:
        held = size // 2 if bits != 8 else size
        raise DicomError("", f"{colour}PaletteColorLookupTableData holds {held:,} entries but "
                             f"its Descriptor says {entries:,}: indices past the table would "
                             "take its last colour.")  # fmt: skip
