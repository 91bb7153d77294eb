"""IS and DS values outside the standard's grammar, named by their attribute.

pydicom reads an Integer String ``"3.5"`` or a Decimal String of 20 characters, but warns
with the value alone (``Invalid value for VR IS: '3.5'``): the user learnt neither which
attribute it was nor what number was used. :func:`note_number_strings` checks every IS and
DS value of a data set as it is read (PS3.5 6.2: an IS is an optionally signed integer of at
most 12 characters, a DS a fixed or floating point number of at most 16), says for each bad
value the attribute, its tag and the number read, and converts it at once with pydicom's
warnings silenced, so the only word left is radpipe's note.

A value that is no finite number (``"1,5"``, ``"40 HU"``, ``"inf"``) is left to the readers
that use it (:mod:`pipeline.dicom.values`), which recover it or refuse it, naming the tag.
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["note_number_strings", "number_string_notes"]

_MAX = {"IS": 12, "DS": 16}
#: values PS3.5 6.2 allows for certain (a subset of its grammar: anything else is checked)
_PLAIN = {
    "IS": re.compile(r" *[-+]?[0-9]{1,9} *"),  # within the 32-bit range IS allows
    "DS": re.compile(r" *[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)? *"),
}
#: sequences whose items radpipe reads numbers from (enhanced objects' frame geometry, VOI)
_DEPTH = 3


def note_number_strings(ds: Any) -> None:
    """Add :func:`number_string_notes` to ``ds.radpipe_notes`` (read with the image).

    :func:`pipeline.dicom.text_vr.text_vr_notes` (numbers written with a binary VR) and
    :func:`pipeline.dicom.uid_values.mend_uids` (grouping UIDs with stray bytes) first.
    """
    from pipeline.dicom.text_vr import text_vr_notes
    from pipeline.dicom.uid_values import mend_uids

    notes = text_vr_notes(ds) + mend_uids(ds) + number_string_notes(ds)
    if notes:
        ds.radpipe_notes = [*getattr(ds, "radpipe_notes", []), *notes]


def number_string_notes(ds: Any) -> list[str]:
    """One note per IS or DS value pydicom would warn about, naming the attribute.

    The element is converted here with pydicom's warnings silenced (the note replaces them).

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> from pydicom.dataelem import RawDataElement
    >>> ds = Dataset()
    >>> ds[0x00200013] = RawDataElement(0x00200013, "IS", 4, b"3.5 ", 0, False, True)
    >>> number_string_notes(ds)
    ["InstanceNumber (0020,0013) is not a valid IS (PS3.5 6.2 wants an integer): '3.5' read as 3.5"]
    """
    notes: list[str] = []
    for ds_, tag, vr, text in _number_strings(ds, 0):
        said = [n for n in (_piece_note(tag, vr, p) for p in text.split("\\")) if n]
        if said:
            notes += said
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with contextlib.suppress(Exception):  # unreadable: the readers' to say
                    ds_[tag]  # converted once, quietly: later reads find the number
    return list(dict.fromkeys(notes))


def _number_strings(ds: Any, depth: int) -> Iterator[tuple[Any, int, str, str]]:
    """(data set, tag, VR, raw text) of each IS/DS element, items of sequences included."""
    from pydicom.datadict import dictionary_VR

    for tag in list(ds.keys()):
        elem = ds.get_item(tag, keep_deferred=True)  # never reads deferred pixel data
        if elem is None or elem.value is None:  # deferred (a long value): not read here
            continue
        vr = getattr(elem, "VR", None)
        if vr is None:  # implicit VR: the dictionary's
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                continue
        if vr == "SQ" and depth < _DEPTH and int(tag) >> 16 != 0x7FE0:
            for item in ds[tag].value or ():
                yield from _number_strings(item, depth + 1)
        elif vr in _MAX:
            raw = elem.value
            if isinstance(raw, bytes):  # not yet converted: the text as written
                yield ds, int(tag), vr, raw.decode("latin-1").strip("\x00 ")


def _piece_note(tag: int, vr: str, piece: str) -> str | None:
    from pydicom.valuerep import validate_value

    if len(piece) <= _MAX[vr] and _PLAIN[vr].fullmatch(piece):
        return None  # the common case, without pydicom's slower checks
    text = piece.strip(" \x00")
    try:
        number = float(text)
    except ValueError:
        return None  # no number at all: the reader that needs it says so
    if not math.isfinite(number):
        return None  # NaN or infinite: the reader that needs it refuses it, naming the tag
    written = piece.strip("\x00")
    try:
        validate_value(vr, written, validation_mode=2)  # config.RAISE: pydicom's own rules
        return None
    except ValueError:
        pass
    if len(written.strip()) > _MAX[vr] and (vr == "DS" or number.is_integer()):
        why = f"at most {_MAX[vr]} characters, not {len(written.strip())}"
    else:
        why = "an integer" if vr == "IS" else "a decimal number"
    wants = f"{_name(tag)} is not a valid {vr} (PS3.5 6.2 wants {why})"
    return f"{wants}: {_shown(tag, text)} read as {_read_as(number)}"


def _read_as(number: float) -> str:
    return f"{int(number)}" if number.is_integer() else repr(number)


def _shown(tag: int, text: str) -> str:
    """The value as written, except in the Patient module (a weight, an age)."""
    return "a value (not shown)" if tag >> 16 == 0x0010 else repr(text)


def _name(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    where = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    keyword = keyword_for_tag(tag)
    return f"{keyword} {where}" if keyword else where
