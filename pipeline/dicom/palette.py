"""PALETTE COLOR images (PS3.3 C.7.6.3.1.5).

The stored indices go through the palette at the depth its entries really have.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from pipeline.errors import DicomError

__all__ = ["apply_palette", "check_palette", "palette_colours", "palette_tables", "palette_top"]


def palette_colours(
    ds: Dataset, stored: np.ndarray, bits_stored: int, source: str, notes: list[str],
    syntax: str | None,
) -> np.ndarray:  # fmt: skip
    """The indices ``stored``, as their cells hold them, masked to BitsStored and looked up.

    Bits above HighBit are undefined (PS3.5 8.1.1) and masked, as pydicom masks them; an
    index that masking changes is said, as a grey value is
    (:func:`~pipeline.dicom.unused_bits.unused_bits_note`): index 300 of a 512-entry palette
    under BitsStored 8 took entry 44's colour, unsaid. A JPEG-family stream's indices (of
    ``syntax``) are kept or masked as its grey samples are, said alike
    (:func:`~pipeline.dicom.codestream.codestream_bits`: a JPEG-LS or JPEG 2000 stream's
    wider samples kept, T.81 lossless masked), but kept only where the palette has entries
    for them (else masked, said): until 2026-12-04 all were masked unsaid (index 300 of a
    512-entry palette again entry 44).
    """
    from pipeline.dicom.bits import fix_bits
    from pipeline.dicom.codestream import codestream_bits, is_jpeg_family
    from pipeline.dicom.unused_bits import unused_bits_note

    bits, said = bits_stored, list[str]()
    if is_jpeg_family(syntax):
        bits = codestream_bits(stored, bits_stored, syntax, said, ds)
        count, first = (int(v) for v in ds.RedPaletteColorLookupTableDescriptor[:2])
        if bits > bits_stored and int(stored.max(initial=0)) >= first + (count or 2**16):
            bits, said = bits_stored, []  # indices past the table: their high bits are junk
        elif bits > bits_stored:
            said[-1] += " (the palette has entries for them)"
    notes += said or list(filter(None, [unused_bits_note(stored, bits, False, ds)]))
    return apply_palette(ds, fix_bits(stored, bits, signed=False), source, notes)


def apply_palette(
    ds: Dataset, indices: np.ndarray, source: str, notes: list[str] | None = None
) -> np.ndarray:
    """RGB ``(..., 3)`` through the palette; entries keep the depth their values show.

    PS3.3 C.7.6.3.1.5: indices below the first one mapped take the first entry, indices past
    the table its last. The tables are read here (:func:`palette_tables`), not by pydicom's
    ``apply_color_lut``, which holds the indices in the entries' type: through 8-bit
    entries (a 12-bit image's 4096-entry palette) index 300 read entry 44 and 4095 entry
    255, and it reads 16-bit entries in the machine's byte order, so a big-endian file's
    256 read 1: wrong colours, unsaid.

    Some writers store 8-bit entries in 16-bit words, padding the high bits. Those come back
    as uint8, so that they are not scaled as 16-bit values; 16-bit words under an 8-bit
    descriptor whose values need more than 8 bits are kept as 16-bit, with a note. Other
    writers say 16 bits per entry over entries that are all <= 255; pydicom keeps them as
    16-bit values (a near-black image), dcmtk with its LUT depth check (``DiLookupTable::
    checkTable``, ``CIF_CheckLutBitDepth``) reads them as 8-bit; so does radpipe, with a note,
    judging by the whole table, not by the entries one image happens to use.
    """
    try:
        first, tables = palette_tables(ds)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as err:
        raise DicomError(source, f"PALETTE COLOR lookup failed: {err}") from err
    at = np.clip(np.asarray(indices, dtype=np.int64) - first, 0, None)
    if len(tables) > 3 and notes is not None:  # an opacity for blending, not a colour
        notes.append(_ALPHA_NOTE)
    rgb = np.stack([t[np.minimum(at, len(t) - 1)] for t in tables[:3]], axis=-1)
    nominal = int(ds.RedPaletteColorLookupTableDescriptor[2])
    if rgb.dtype.itemsize != 2 or nominal not in (8, 16):
        return rgb
    top = int(rgb.max(initial=0)) if nominal == 8 else palette_top(tables)
    if top <= 0xFF and (nominal == 8 or top > 0):
        if nominal == 16 and notes is not None:
            notes.append(f"palette LUT Descriptor says 16-bit entries but they reach only {top}, "
                         "read as 8-bit entries, as dcmtk does")  # fmt: skip
        return rgb.astype(np.uint8)
    if nominal == 8 and notes is not None:
        notes.append("palette LUT Descriptor says 8-bit entries but the 16-bit entries "
                     "hold larger values, read as 16-bit entries")  # fmt: skip
    return rgb


def palette_top(tables: list[np.ndarray]) -> int:
    """The largest entry of a whole palette's :func:`palette_tables`, over every index."""
    return max(int(t.max(initial=0)) for t in tables)


def palette_tables(ds: Dataset) -> tuple[int, list[np.ndarray]]:
    """``(first index mapped, tables)``: red, green, blue (and alpha when given) entries.

    Each table holds its own Descriptor's count of entries (0 meaning 2**16; PS3.3
    C.7.6.3.1.5), as uint8 when its Data packs them one per byte, else as uint16 read in the
    data set's byte order (OW data stay in the file's byte order); Segmented Data is
    expanded per C.7.9.2 and cut to the count, as plain Data is (one shorter than the count
    is refused by :func:`check_palette`).
    """
    from pipeline.dicom.lut import little_endian

    red = [int(v) for v in ds.RedPaletteColorLookupTableDescriptor]
    first, nominal, little = red[1], red[2], little_endian(ds)
    tables = []
    for colour in (*_COLOURS, "Alpha"):  # each with its own count (C.7.6.3.1.5), as dcmtk
        own = ds.get(f"{colour}PaletteColorLookupTableDescriptor")
        count = (int(own[0]) if own is not None else red[0]) or 2**16
        data = ds.get(f"{colour}PaletteColorLookupTableData")
        segmented = ds.get(f"Segmented{colour}PaletteColorLookupTableData")
        if data is not None:
            tables.append(_table(data, count, little))
        elif segmented is not None:  # as long as plain Data: its first `count` entries
            tables.append(_segmented(bytes(segmented), nominal, little)[:count])
        elif colour != "Alpha":
            raise ValueError(f"{colour}PaletteColorLookupTableData is missing")
    if any(len(t) == 0 for t in tables):
        raise ValueError("a palette table holds no entries")
    return first, tables


def _table(data: object, count: int, little: bool) -> np.ndarray:
    if not isinstance(data, bytes | bytearray):  # US values, unpacked by pydicom
        values = data if isinstance(data, list | tuple) else list(data)  # type: ignore[call-overload]
        return np.asarray(values, dtype=np.uint16)[:count]
    if len(data) in (count, count + 1):  # 8-bit entries packed one per byte (C.7.6.3.1.6)
        from pipeline.dicom.lut import packed_entries

        return packed_entries(bytes(data), count, little)
    return np.frombuffer(bytes(data), dtype="<u2" if little else ">u2", count=count).astype(
        np.uint16
    )


def _segmented(data: bytes, nominal: int, little: bool) -> np.ndarray:
    """Segmented LUT Data expanded (PS3.3 C.7.9.2), with pydicom's expander."""
    from struct import unpack

    from pydicom.pixels.processing import _expand_segmented_lut

    size = 1 if nominal == 8 else 2
    fmt = f"{'<' if little else '>'}{len(data) // size}{'B' if size == 1 else 'H'}"
    expanded = _expand_segmented_lut(unpack(fmt, data[: len(data) // size * size]), fmt)
    return np.asarray(expanded, dtype=np.uint8 if size == 1 else np.uint16)


_COLOURS = ("Red", "Green", "Blue")
#: An Alpha table (PS3.3 C.7.9) gives each index an opacity for blending over another image:
#: pydicom's ``apply_color_lut`` returns it as a 4th channel, which PNG writing refused with
#: "PNG needs ... (H, W, 3) uint8; got (2, 4, 4)" and NPY held as a colour.
_ALPHA_NOTE = ("AlphaPaletteColorLookupTableData (0028,1204) not applied: its opacities are "
               "for blending the image over another (PS3.3 C.7.9), written as the palette's "
               "RGB colours, fully opaque")  # fmt: skip


def check_palette(ds: Dataset) -> list[str]:
    """Refuse a PALETTE COLOR image whose lookup tables cannot map its indices.

    Each of red, green and blue needs its Descriptor (0028,1101-1103: entries, first index,
    bits) and its Data (0028,1201-1203) or Segmented Data (0028,1221-1223), the Data as long
    as the Descriptor says (PS3.3 C.7.6.3.1.5-6). A palette given only by
    PaletteColorLookupTableUID (0028,1199), or whose tables were left out with other bulk
    data (OHIF #1350), passed ``inspect`` and failed at ``convert`` in pydicom's words ("No
    suitable Palette Color Lookup Table Module found"); a table shorter than its Descriptor
    gave the indices past its end its last entry, unsaid. The three Descriptors must agree
    on the first index and the bits (:func:`_check_alike`).

    Returns
    -------
    list of str
        A note when their counts differ (:func:`counts_note`), else empty.

    Raises
    ------
    DicomError
        Naming the colour's elements (the caller fills in the file).
    """
    term = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if term != "PALETTE COLOR":
        return []
    for colour in _COLOURS:
        descriptor = f"{colour}PaletteColorLookupTableDescriptor"
        data = f"{colour}PaletteColorLookupTableData"
        given = [k for k in (data, f"Segmented{data}") if k in ds]
        found = ds.get(descriptor)
        if found is None or not given:
            missing = [k for k in (descriptor, data) if k not in ds and not (k == data and given)]
            shown = " and ".join(f"{k} {_tag(k)}" for k in missing)
            said = [f"{shown} {'are' if len(missing) > 1 else 'is'} missing"] if missing else []
            if found is None and descriptor in ds:  # present without a value: named too
                said.insert(0, f"{descriptor} {_tag(descriptor)} is empty")
            raise DicomError("", f"PhotometricInterpretation (0028,0004) is PALETTE COLOR but "
                                 f"{' and '.join(said)} (a palette referenced only by "
                                 "PaletteColorLookupTableUID, or left out with bulk data): "
                                 "the indices cannot be turned into colours.")  # fmt: skip
        if given == [data]:
            _check_length(colour, found, ds.get(data))
        else:
            _check_segmented(colour, found, ds)
    _check_alike(ds)
    _check_lossless(ds)
    return [note] if (note := counts_note(ds)) else []


def _check_lossless(ds: Dataset) -> None:
    """Refuse indices stored in a lossy stream (by its syntax or its own markers).

    Lossy compression moves each sample by a little, and a palette's neighbouring entries
    need not hold neighbouring colours: index 100 decoded as 101 takes another entry's colour,
    whatever the error (pydicom's encoders take PALETTE COLOR only where lossless). A JPEG
    baseline stream of indices came out in colours of entries its pixels never had, unsaid
    (the ``lossy`` column said it was lossy, as of any grey image).
    """
    from pipeline.dicom.lossy import lossy_storage
    from pipeline.dicom.pixel_encoding import syntax_name

    stream = lossy_storage(ds)
    if stream:
        raise DicomError("", f"PhotometricInterpretation (0028,0004) is PALETTE COLOR but the "
                             f"indices are stored as {syntax_name(stream)}, a lossy compression: "
                             "it changes indices by small amounts and a palette's neighbouring "
                             "entries need not hold neighbouring colours, so the pixels' "
                             "colours are unknown.")  # fmt: skip


def _tag(keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword) or 0
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


_DESCRIPTORS = "Red, Green and BluePaletteColorLookupTableDescriptor (0028,1101-1103)"


def _descriptors(ds: Dataset) -> list[list[int]]:
    return [[int(v) for v in ds.get(f"{c}PaletteColorLookupTableDescriptor")] for c in _COLOURS]


def _check_alike(ds: Dataset) -> None:
    """The three Descriptors must agree on the first index mapped and the entries' bits.

    One index goes through the three tables: with a first index or a depth of its own, one
    table was read by the Red Descriptor's (pydicom's ``apply_color_lut`` does too), so its
    colours were shifted or scaled wrong, unsaid. Counts may differ (:func:`palette_tables`).
    """
    found = _descriptors(ds)
    if len({tuple(d[1:]) for d in found}) > 1:
        shown = ", ".join("\\".join(map(str, d)) for d in found)
        raise DicomError("", f"{_DESCRIPTORS} differ in the first index mapped or the bits "
                             f"({shown}): one index goes through the three tables, so its "
                             "colour is unknown.")  # fmt: skip


def counts_note(ds: Dataset) -> str:
    """A note when the three Descriptors give different counts of entries, else ""."""
    counts = [d[0] or 2**16 for d in _descriptors(ds)]
    if len(set(counts)) == 1:
        return ""
    return (f"palette tables of different lengths: {_DESCRIPTORS} give {counts[0]:,}, "
            f"{counts[1]:,} and {counts[2]:,} entries, each table read with its own count (an "
            "index past a shorter table takes its last entry)")  # fmt: skip


def _check_segmented(colour: str, descriptor: object, ds: Dataset) -> None:
    """Segmented Data must expand to the Descriptor's entries (PS3.3 C.7.9.2).

    A shorter expansion (a segment lost) gave the indices past it its last colour, unsaid,
    where pydicom's ``apply_color_lut`` fails; a malformed one failed only at conversion.
    """
    from pipeline.dicom.lut import little_endian

    key = f"Segmented{colour}PaletteColorLookupTableData"
    try:
        count, _, bits = (int(v) for v in descriptor)  # type: ignore[attr-defined]
        held = len(_segmented(bytes(ds.get(key)), bits, little_endian(ds)))
    except (TypeError, ValueError, IndexError) as err:
        raise DicomError("", f"{key} {_tag(key)} cannot be expanded (PS3.3 C.7.9.2): "
                             f"{err}") from None  # fmt: skip
    entries = count or 2**16
    if held < entries:
        raise DicomError("", f"{key} {_tag(key)} expands to {held:,} entries but its Descriptor "
                             f"says {entries:,}: indices past the table would take its last "
                             "colour.")  # fmt: skip


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
        says = f"{entries:,}" if count else "0, which means 65,536 (PS3.3 C.7.6.3.1.5)"
        raise DicomError("", f"{colour}PaletteColorLookupTableData holds {held:,} entries but "
                             f"its Descriptor says {says}: indices past the table would "
                             "take its last colour.")  # fmt: skip
