"""An element written twice in one data set, said with its tag (and its numbers).

A data set holds each tag once, in ascending order (PS3.5 7.1). A file that holds one twice
is read differently by different tools: pydicom keeps the last (its reader fills a dict, with
no word), dcmtk the first ("found twice in one data set - ignoring second entry"). radpipe
reads the file with pydicom, so a header with RescaleIntercept 0 and then -1024 gave values
in HU, and one with -1024 and then 0 the stored values, without a word either way (found by
the duplicate mutation of ``benchmarks/fuzz_oracle.py``). :func:`note_repeated_elements` says
which tags repeat, their values where they are numbers (a DS, IS or binary number: no
patient data), and that the last is used.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["note_repeated_elements", "repeated_elements"]

#: Text VRs whose values are numbers, said as they are written (no patient data in them).
_NUMBER_TEXT = {"DS", "IS"}
#: Binary number VRs, read with the data set's byte order.
_NUMBER_BINARY = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d"}
_PIXELS = 0x7FE00008  # FloatPixelData and after: the header is over
_UNDEFINED = 0xFFFFFFFF
#: explicit VRs with a 2-byte reserved field and a 4-byte length: a 12-byte header (PS3.5 7.1.2)
_BINARY_SIZE = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "AT": 4}
_TEXT = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UI"}
_LONG_HEADER = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def _dataset_start(ds: Any) -> int | None:
    """Where the data set begins in the file, else ``None``.

    After the preamble, 'DICM' and the File Meta group (its group length element and the
    length it gives).
    """
    meta = getattr(ds, "file_meta", None)
    length = meta.get("FileMetaInformationGroupLength") if meta is not None else None
    if getattr(ds, "preamble", None) is None or not isinstance(length, int):
        return None
    return 128 + 4 + 12 + length


def _shown(raw: Any, little: bool) -> str | None:
    """A copy's value where it is a number (no patient data), else ``None``."""
    import struct

    from pydicom.datadict import dictionary_has_tag, dictionary_VR

    value, vr = raw.value, raw.VR
    if vr is None and dictionary_has_tag(raw.tag):  # Implicit VR: the dictionary's
        vr = dictionary_VR(raw.tag)
    if not isinstance(value, bytes) or len(value) > 64:
        return None
    if vr in _NUMBER_TEXT:
        text = value.decode("ascii", "replace").strip(" \x00")
        return f"'{text}'" if text and len(text) <= 32 else None
    code = _NUMBER_BINARY.get(vr or "")
    if code is None or not value or len(value) % struct.calcsize(code):
        return None
    count = len(value) // struct.calcsize(code)
    numbers = struct.unpack(("<" if little else ">") + code * count, value)
    return "\\".join(f"{v:g}" for v in numbers)


def _converted_size(elem: Any, implicit: bool) -> int | None:
    """Bytes a converted element took in the file, header and value, where its value tells.

    Binary numbers and text; ``None`` for a sequence or anything else.
    """
    vr = elem.VR
    header = 8 if implicit or vr not in _LONG_HEADER else 12
    if vr in _BINARY_SIZE:
        return header + _BINARY_SIZE[vr] * elem.VM
    if vr not in _TEXT or isinstance(elem.value, bytes):
        return None
    values = elem.value if elem.VM > 1 else [elem.value] if elem.VM else []
    text = "\\".join(getattr(v, "original_string", None) or str(v) for v in values)
    size = len(text.encode("utf-8"))
    return header + size + size % 2


def _gap_in_chain(ds: Any) -> bool:
    """Whether bytes the data set does not account for lie between two of its elements.

    The elements are kept in the order read, each not yet converted knowing where its value
    lies (``value_tell``) and its length: the next begins with its header right after. A tag
    written twice leaves a gap there, since pydicom kept the second copy's value at the first
    copy's place, so the first copy's bytes belong to no element. A converted element counts
    by its value (:func:`_converted_size`); a sequence or an undefined length breaks the
    chain. One pass, no reading: the file is parsed again only when this finds a gap.
    """
    from pydicom.dataelem import RawDataElement

    implicit = bool(getattr(ds, "original_encoding", (None, None))[0])
    end: int | None = None  # where the elements so far end in the file
    for elem in ds._dict.values():  # in the order read; ds.elements() sorts and looks up
        if type(elem) is not RawDataElement or elem.value_tell is None:
            size = _converted_size(elem, implicit) if end is not None else None
            end = None if size is None or end is None else end + size
            continue
        header = 8 if implicit or elem.VR not in _LONG_HEADER else 12
        if end is not None and elem.value_tell - end > header:
            return True
        end = None if elem.length == _UNDEFINED else elem.value_tell + elem.length
    return False


def repeated_elements(ds: Any, path: str | Path) -> list[str]:
    """The notes for top-level tags written more than once before the pixel data."""
    from pydicom.datadict import keyword_for_tag
    from pydicom.filereader import data_element_generator

    if not _gap_in_chain(ds):
        return []
    implicit, little = getattr(ds, "original_encoding", (None, None))
    start = _dataset_start(ds)
    deflated = str(getattr(ds.file_meta, "TransferSyntaxUID", "")) == "1.2.840.10008.1.2.1.99"
    if implicit is None or little is None or start is None or deflated:
        return []  # deflated: the file's bytes are not the data set's
    seen: dict[int, list[str | None]] = defaultdict(list)
    with open(path, "rb") as fp:
        fp.seek(start)
        stop = lambda tag, vr, length: tag >= _PIXELS  # noqa: E731
        for raw in data_element_generator(fp, implicit, little, stop, defer_size=256):
            seen[int(raw.tag)].append(_shown(raw, little) if hasattr(raw, "VR") else None)
    notes = []
    for tag, values in seen.items():
        if len(values) < 2:
            continue
        name = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        keyword = keyword_for_tag(tag)
        said = ", then ".join(v for v in values if v) if all(values) else ""
        times = "twice" if len(values) == 2 else f"{len(values)} times"
        notes.append(f"{keyword + ' ' if keyword else ''}{name} is written {times} "
                     f"in the header{f' ({said})' if said else ''}: the last is read, as pydicom "
                     "reads it (dcmtk keeps the first)")  # fmt: skip
    return notes


def note_repeated_elements(ds: Any, path: str | Path) -> None:
    """Add :func:`repeated_elements` to ``ds.radpipe_notes`` (read with the image)."""
    try:
        notes = repeated_elements(ds, path)
    except (OSError, ValueError, EOFError, NotImplementedError, KeyError):
        return  # a header pydicom read once but not twice: its own reading says what it can
    if notes:
        ds.radpipe_notes = [*getattr(ds, "radpipe_notes", []), *notes]
