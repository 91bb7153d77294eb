r"""Numbers and UIDs written with a binary VR, read as the text their bytes spell.

An explicit-VR file says each element's VR (PS3.5 7.1.2), and pydicom reads the value by it.
A DS, IS or UI attribute written with a binary VR (US, SS, UL, FL, OB, UN...) is then read
as binary numbers: a RescaleSlope ``'1 '`` written with VR SS became 8241 (the two bytes
``1`` and space), a WindowWidth ``'400\1500'`` with VR UL two unrelated integers, and a
SeriesInstanceUID with VR UL a list of numbers that filed the slice in a series of its own,
all unsaid (found by ``benchmarks/fuzz_header_bytes.py``). :func:`read_text_vrs` reads such
a value as the text it spells when its bytes are one (digits, signs, points, exponents and
backslashes for DS and IS; digits and points for UI), with a note naming the attribute;
a value whose bytes spell no such text is read as written, said the same way.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["read_text_vrs", "text_vr_notes"]

#: VRs whose values are binary: a text attribute written with one is read wrongly
_BINARY = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT", "OB", "OW", "OF",
                     "OD", "OL", "OV", "UN"})  # fmt: skip
_TEXT = {
    "DS": re.compile(r"[-+0-9.eE \\]*[0-9][-+0-9.eE \\]*"),
    "IS": re.compile(r"[-+0-9 \\]*[0-9][-+0-9 \\]*"),
    "UI": re.compile(r"[0-9.\\]*[0-9][0-9.\\]*"),
}
#: sequences whose items radpipe reads (enhanced objects' frame geometry, rescale, VOI)
_DEPTH = 3


def read_text_vrs(ds: Any) -> None:
    """Add :func:`text_vr_notes` to ``ds.radpipe_notes`` (read with the image)."""
    notes = text_vr_notes(ds)
    if notes:
        ds.radpipe_notes = [*getattr(ds, "radpipe_notes", []), *notes]


def text_vr_notes(ds: Any, depth: int = 0) -> list[str]:
    """Read each DS, IS or UI element written with a binary VR as its text; one note each.

    Examples
    --------
    A RescaleSlope ``'1 '`` written with VR SS (pydicom would read 8241):

    >>> from pydicom import Dataset, dataelem
    >>> ds = Dataset()
    >>> ds[0x00281053] = dataelem.RawDataElement(0x00281053, "SS", 2, b"1 ", 0, False, True)
    >>> text_vr_notes(ds)[0][-37:], float(ds.RescaleSlope)
    ("read as the text its bytes spell, '1'", 1.0)
    """
    from pydicom.datadict import dictionary_VR

    notes: list[str] = []
    for tag in list(ds.keys()):
        elem = ds.get_item(tag, keep_deferred=True)  # never reads deferred pixel data
        if elem is None or int(tag) >> 16 == 0x7FE0:
            continue
        written = getattr(elem, "VR", None)
        if written == "SQ" and depth < _DEPTH:
            for item in ds[tag].value or ():
                notes += text_vr_notes(item, depth + 1)
            continue
        if written not in _BINARY or not isinstance(getattr(elem, "value", None), bytes):
            continue
        try:
            wanted = dictionary_VR(tag)
        except KeyError:  # private or unknown: its VR is the file's to say
            continue
        if wanted not in _TEXT:
            continue
        notes.append(_read_as_text(ds, int(tag), written, wanted, elem.value))
    return notes


def _read_as_text(ds: Any, tag: int, written: str, wanted: str, raw: bytes) -> str:
    from pydicom.dataelem import RawDataElement

    name = _name(tag)
    text = raw.decode("latin-1").strip("\x00 ")
    said = f"{name} is written with VR {written}, not {wanted} (PS3.6)"
    if not _TEXT[wanted].fullmatch(text):
        return f"{said}: its bytes spell no {wanted}, read as {written}"
    ds[tag] = RawDataElement(tag, wanted, len(raw), raw, 0, False, True)  # type: ignore[arg-type]
    shown = "a value (not shown)" if tag >> 16 == 0x0010 or wanted == "UI" else repr(text)
    return f"{said}: read as the text its bytes spell, {shown}"


def _name(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    where = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    keyword = keyword_for_tag(tag)
    return f"{keyword} {where}" if keyword else where
