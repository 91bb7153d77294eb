"""LUT Data (0028,3006) of Modality and VOI LUT items, unpacked by VR, byte order, length.

LUT Data reaches a reader in three shapes: a list of ints (VR US or SS, already unpacked by
pydicom), or raw bytes (VR OW, always so in Implicit VR files where the VR is ambiguous).
Raw bytes are 16-bit words in the data set's byte order, one entry per word even when the
LUT Descriptor's third value says 8 bits (PS3.3 C.11.1.1.1, C.11.2.1.1; pydicom #1073, PR
#1074). Some writers pack 8-bit entries one per byte instead; the data length tells them
apart (``2 N`` bytes: words, ``N`` bytes: packed). For every layout pydicom accepts, the
tables here equal what ``pydicom.pixels.apply_modality_lut`` / ``apply_voi_lut`` use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.notes import note_text
from pipeline.errors import DicomError
from pipeline.words import counted


def little_endian(ds: Any) -> bool:
    """The byte order the data set was encoded with (File Meta first, then as parsed)."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is not None:
        return str(syntax) != "1.2.840.10008.1.2.2"
    little = getattr(ds, "original_encoding", (None, None))[1]
    return True if little is None else bool(little)


def lut_table(
    item: Any,
    source: str,
    *,
    little: bool,
    signed: bool = False,
    longer: list[str] | None = None,
    sequence: str = "",
) -> tuple[int, np.ndarray, int]:
    """``(first_mapped, table, bits)`` of one LUT item.

    Parameters
    ----------
    item
        A Modality or VOI LUT Sequence item with LUTDescriptor and LUTData.
    source
        The file, for messages.
    little
        Byte order of the data set (:func:`little_endian`), used for OW data.
    signed
        PixelRepresentation is 1: the descriptor's first mapped value is then a signed
        16-bit number (C.11.1.1.1) and may have been read as unsigned.
    longer
        When given, LUT Data holding more entries than the descriptor says is taken whole
        (the descriptor's count is the wrong one, as dcmtk's ``DiLookupTable::checkTable``
        assumes: "invalid value for 'NumberOfTableEntries' ... assuming" the data's count)
        and a note saying so is appended here; else the first N entries are kept, as pydicom
        keeps them.
    sequence
        The item's sequence, named in that note (``VOILUTSequence (0028,3010)``).

    Returns
    -------
    tuple
        ``first_mapped`` (int), ``table`` ``(N,)`` int64 (N = the descriptor's count, 0
        meaning 65536), ``bits`` (the descriptor's third value).

    Raises
    ------
    DicomError
        When the descriptor is unusable or the data holds fewer than N entries.
    """
    try:
        count, first, bits = (int(v) for v in item.LUTDescriptor)
    except (AttributeError, TypeError, ValueError):
        found = item.get("LUTDescriptor")
        n = len(found) if hasattr(found, "__len__") and not isinstance(found, str | bytes) else 1
        shown = "none" if found is None else counted(n, "value") if n != 3 else "non-numeric values"
        raise DicomError(source, "(0028,3002) LUTDescriptor must hold 3 whole numbers (entries, "
                                 f"first value mapped, bits); got {shown}.") from None  # fmt: skip
    # The first and third values are always unsigned (PS3.3 C.11.1.1.1), but the VR of all
    # three is the second's: SS for signed data, which an Implicit VR reader (pydicom, #942)
    # applies to all of them, so 40000 entries read -25536
    count, bits = count % 65536, bits % 65536
    count = count or 65536  # PS3.3 C.11.1.1.1: 0 means 2**16 entries
    if signed and first >= 2**15:
        first -= 2**16
    if not 1 <= bits <= 16:
        raise DicomError(source, f"(0028,3002) LUTDescriptor bits must be 1..16; got {bits}.")
    if "LUTData" not in item:
        raise DicomError(source, "(0028,3006) LUTData is missing from the LUT item.")
    raw = item.LUTData
    if isinstance(raw, bytes | bytearray):
        table = _from_bytes(bytes(raw), count, bits, little, source)
    else:
        values = raw if hasattr(raw, "__len__") else [raw]
        # Entries are unsigned (PS3.3 C.11.1.1.1: "This range is always unsigned"; C.11.2.1.1
        # 0 .. 2**n - 1), but older editions allowed LUT Data as SS: 32776 read -32760, 65535
        # read -1 (cornerstone #382, IHE mlut_18). The 16-bit words are meant, unsigned.
        table = np.asarray(list(values), dtype=np.int64) & 0xFFFF
    if len(table) < count:
        raise DicomError(
            source, f"(0028,3006) LUTData holds {len(table)} entries; the descriptor says {count}."
        )
    if longer is not None and count < len(table):
        longer.append(_longer_note(len(table), count, sequence))
        return first, table[:65536], bits
    return first, table[:count], bits


def _longer_note(found: int, count: int, sequence: str) -> str:
    where = f"{sequence} " if sequence else ""
    return (
        f"LUT entries: {where}LUTData (0028,3006) holds {min(found, 65536)} entries but its "
        f"LUTDescriptor (0028,3002) says {count}: all used, as dcmtk does (the descriptor's "
        f"count is the wrong one: read as it says, values past entry {count - 1} would all take "
        "its last entry)"
    )


#: X-Ray Angiographic, X-Ray Radiofluoroscopic and the retired X-Ray Angiographic Bi-Plane
#: Image Storage SOP Classes: see :func:`modality_ignored`.
_XRAY_BACKWARD = frozenset(
    {"1.2.840.10008.5.1.4.1.1.12.1", "1.2.840.10008.5.1.4.1.1.12.2", "1.2.840.10008.5.1.4.1.1.12.3"}
)


def modality_ignored(ds: Any) -> bool:
    """Whether the image's Modality LUT (Sequence or Rescale) is not part of its display chain.

    In XA and XRF images the Modality LUT maps stored values *back* to values proportional
    to the X-ray beam intensity (Pixel Intensity Relationship LOG); it is not applied before
    the window, which is set on the stored values: "If a Modality LUT ... is present in the
    referenced image(s) it shall be ignored" (PS3.4 N.2.5, the XA/XRF presentation pipeline).
    dcmtk (``dimomod.cc``, after David Clunie, comp.protocols.dicom 2000-12-13) and fo-dicom
    (#1442: such an XA came out far too dark) skip it for these SOP classes. Applied, an XA
    whose exponential LUT maps 10-bit stored values to 0..65535 was saturated white by its
    own window (512, 1024), unsaid. (Enhanced XA/XRF keep such LUTs in their own Pixel
    Intensity Relationship LUT group, which radpipe never applies.)
    """
    return str(ds.get("SOPClassUID") or "").strip() in _XRAY_BACKWARD


def ignored_modality_note(ds: Any, slope: float | None, intercept: float | None) -> str:
    """What an XA/XRF image's Modality LUT would have done and that it is not done; ``""``.

    ``slope``/``intercept``: the image's RescaleSlope/Intercept (``None`` when absent).
    Nothing is said of an identity rescale or a non-XA image (:func:`modality_ignored`).
    """
    if not modality_ignored(ds):
        return ""
    if ds.get("ModalityLUTSequence"):
        what = "Modality LUT Sequence (0028,3000)"
    elif (slope not in (None, 1.0)) or (intercept not in (None, 0.0)):
        s, b = 1.0 if slope is None else slope, 0.0 if intercept is None else intercept
        what = f"RescaleSlope/Intercept (0028,1053/1052) (x {s:g} + {b:g})"
    else:
        return ""
    return (
        f"{what} not applied: in an XA/XRF image it maps stored values back to X-ray beam "
        "intensity and is no part of the display chain (PS3.4 N.2.5, as dcmtk and fo-dicom "
        "read it): the values written, and windowed, are the stored values"
    )


def modality_lut(
    ds: Any, source: str, little: bool, signed: bool, notes: list[str] | None = None
) -> tuple[int, np.ndarray] | None:
    """First Modality LUT Sequence item as ``(first_mapped, table)``; unusable: refused.

    ``None`` for an XA/XRF image, whose Modality LUT is not applied (:func:`modality_ignored`),
    and for an unusable item beside RescaleSlope/Intercept, which then apply
    (:func:`lut_fallback`). ``notes``: when given, LUT Data longer than its descriptor says
    is used whole, as dcmtk uses it, and said there (:func:`lut_table`'s ``longer``).
    """
    seq = ds.get("ModalityLUTSequence")
    if not seq or modality_ignored(ds):
        return None
    try:
        where = "ModalityLUTSequence (0028,3000)"
        first, table, bits = lut_table(seq[0], source, little=little, signed=signed,
                                       longer=notes, sequence=where)  # fmt: skip
    except DicomError as err:
        if _rescale_given(ds):
            return None
        why = f"{err.reason.rstrip('.')}, and no RescaleSlope/Intercept (0028,1053)/(0028,1052)"
        raise DicomError(source, f"{why} beside it to use instead.") from None
    if notes is not None and len(table) and int(table.max()) >= 2**bits:
        notes.append(_deeper_note(int(table.max()), bits))
    return first, table


def _deeper_note(top: int, bits: int) -> str:
    """The note for LUT Data values past its descriptor's bit depth, used as they are.

    PS3.3 C.11.1.1.1: entries are 0 .. 2**bits - 1. Such values went unsaid.
    """
    return (
        f"Modality LUT Sequence (0028,3000) LUTData (0028,3006) holds values up to {top}, past "
        f"the {bits} bits its LUTDescriptor (0028,3002) gives (0..{2**bits - 1}): used as they "
        "are (the descriptor's bit depth is the wrong one, or the data damaged)"
    )


def uses_modality_lut(ds: Any) -> bool:
    """Whether the Modality LUT Sequence maps the stored values (:func:`modality_lut`)."""
    return bool(ds.get("ModalityLUTSequence")) and not modality_ignored(ds) and not lut_fallback(ds)


def lut_fallback(ds: Any) -> str:
    """Why an unusable Modality LUT Sequence item gives way to RescaleSlope/Intercept; ``""``.

    dcmtk (``DiMonoModality::checkTable``/``checkRescaling``) uses the rescale when the
    Modality LUT is invalid (PS3.3 C.11.1: one or the other); pydicom raises. radpipe follows
    dcmtk and says so: refused, a CR whose LUT item lost its LUTDescriptor could not be
    converted although its rescale was good. Without a rescale the item is still refused
    (:func:`modality_lut`).
    """
    seq = ds.get("ModalityLUTSequence")
    if not seq or modality_ignored(ds) or not _rescale_given(ds):
        return ""
    signed = str(ds.get("PixelRepresentation", 0)).strip() == "1"
    try:
        lut_table(seq[0], "", little=little_endian(ds), signed=signed)
    except DicomError as err:
        why = note_text(err.reason.rstrip("."))
        return (
            "Modality LUT Sequence (0028,3000) unusable, RescaleSlope/RescaleIntercept "
            f"(0028,1053)/(0028,1052) beside it applied instead: {why} (as dcmtk does, "
            "PS3.3 C.11.1 allows one or the other)"
        )
    return ""


def empty_lut_note(ds: Any) -> str:
    """The note for a Modality LUT Sequence without an item, else ``""``.

    Type 1C: present means one item (PS3.3 C.11.1). An empty one is taken for none, as pydicom
    and dcmtk take it; that was unsaid (found by ``benchmarks/fuzz_oracle.py``), though the
    values then lack the mapping the header announced.
    """
    seq = ds.get("ModalityLUTSequence")
    if seq is None or len(seq) or modality_ignored(ds):
        return ""
    used = ("RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) applied instead"
            if _rescale_given(ds) else "the stored values are used as they are")  # fmt: skip
    return f"Modality LUT Sequence (0028,3000) holds no item: {used}"


def _rescale_given(ds: Any) -> bool:
    return any(str(ds.get(k) or "").strip() for k in ("RescaleSlope", "RescaleIntercept"))


def value_units(ds: Any) -> tuple[str, str]:
    """What the header says the modality values are: ``(value, where)``; ``("", "")``: nothing.

    The Modality LUT Sequence's ModalityLUTType (0028,3004), else RescaleType (0028,1054)
    (PS3.3 C.11.1.1.2: ``HU``, ``US`` unspecified, ``OD``, ...), frame 0's of an Enhanced
    object's Pixel Value Transformation group. A CT image module has no RescaleType: its
    values are HU by the modality.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.RescaleType = "US"
    >>> value_units(ds)
    ('US', 'RescaleType (0028,1054)')
    """
    from pipeline.dicom.groups import attribute

    if modality_ignored(ds):  # the values are the stored values
        return "", ""
    seq = ds.get("ModalityLUTSequence")
    if uses_modality_lut(ds) and str(seq[0].get("ModalityLUTType") or "").strip():
        return str(seq[0].ModalityLUTType).strip().upper(), "ModalityLUTType (0028,3004)"
    found = attribute(ds, "PixelValueTransformationSequence", "RescaleType", 0)
    text = str(found or "").strip().upper()
    return (text, "RescaleType (0028,1054)") if text else ("", "")


def _from_bytes(raw: bytes, count: int, bits: int, little: bool, source: str) -> np.ndarray:
    if len(raw) in (2 * count, 2 * count + 1) or (bits > 8 and len(raw) >= 2 * count):
        whole = 2 * max(count, len(raw) // 2)  # every whole word; the caller keeps what it needs
        words = np.frombuffer(raw[:whole], dtype="<u2" if little else ">u2")
        return words.astype(np.int64)
    if bits <= 8 and len(raw) in (count, count + 1):
        return packed_entries(raw, count, little).astype(np.int64)
    raise DicomError(
        source,
        f"(0028,3006) LUTData holds {len(raw)} bytes; {count} entries of {bits} bits need "
        f"{2 * count} (one per 16-bit word) or {count} (8-bit, packed).",
    )


def packed_entries(raw: bytes, count: int, little: bool) -> np.ndarray:
    """``count`` 8-bit LUT entries packed one per byte in OW LUT Data, in table order (uint8).

    OW values are 16-bit words in the data set's byte order (PS3.5 7.3): in Explicit VR Big
    Endian each word's two bytes are swapped against the entries' order, so they are swapped
    back, as dcmtk and GDCM (which hold OW values as native 16-bit words) read them; read
    byte by byte, as pydicom reads them, entries 0 and 1, 2 and 3 ... traded places.
    """
    if not little:
        even = raw + bytes(len(raw) % 2)
        raw = np.frombuffer(even, dtype=">u2").astype("<u2").tobytes()
    return np.frombuffer(raw[:count], dtype=np.uint8)
