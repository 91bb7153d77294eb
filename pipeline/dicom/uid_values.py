r"""UIDs that group files, written with stray bytes: read as the UID they hold, said.

radpipe groups files by SeriesInstanceUID (and studies, frames of reference, instances by
theirs), comparing the text. A UID is one value of digits and points (PS3.5 9.1), padded
with one trailing NUL; a value with a second, empty value (``'1.2.3\'``), NUL or space bytes
inside or in front (``'\x001.2.3'``) was compared as written, so that one slice made a
one-slice series of its own beside its series, unsaid (found by
``benchmarks/fuzz_header_bytes.py``). :func:`mend_uids` keeps the one UID such a value
holds, with a note naming the attribute; a value that holds no UID, or two, is left as it
is, said too. An empty SeriesInstanceUID is refused where a missing one is
(:func:`pipeline.dicom.header.read_header`).

One value that breaks PS3.5 9.1 otherwise (letters, as some vendors' hex UIDs hold, other
characters, an empty component, a component with a leading zero, over 64 characters) still
groups its files (compared as written), but was said only in pydicom's words, ``Invalid value
for VR UI: '#...'`` (the value hidden, the attribute unnamed). It is now said by name, the
value never shown: ``SeriesInstanceUID (0020,000E) holds letters, not allowed in a UID (PS3.5
9.1): kept as written``.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

__all__ = ["mend_uids"]

_GROUPING = ("SeriesInstanceUID", "StudyInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_MAX = 64  # characters of a UID (PS3.5 9.1)


def mend_uids(ds: Any) -> list[str]:
    """Read each grouping UID of ``ds`` as the one UID it holds; a note for each mended.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.SeriesInstanceUID = ["1.2.3", ""]
    >>> mend_uids(ds)[0][:66]
    'SeriesInstanceUID (0020,000E) is not one UID (PS3.5 9.1: 2 values)'
    >>> ds.SeriesInstanceUID
    '1.2.3'
    """
    notes = []
    for keyword in _GROUPING:
        if keyword not in ds:
            continue
        wrong = _wrong(_raw_text(ds, keyword))
        if wrong:  # one value: said here by name, so pydicom's nameless warning is not
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds.get(keyword)
            notes.append(f"{keyword} ({_tag(keyword)}) {wrong}, not allowed in a UID (PS3.5 "
                         "9.1): kept as written")  # fmt: skip
            continue
        elem = ds.get(keyword)
        if elem is None:
            continue
        pieces = [elem] if isinstance(elem, str | bytes) else list(elem)
        texts = [p.decode("latin-1") if isinstance(p, bytes) else str(p) for p in pieces]
        if len(texts) == 1 and _UID.fullmatch(texts[0]):
            continue
        cleaned = [t.replace("\x00", "").strip() for t in texts]
        found = [t for t in cleaned if t]
        why = _why(texts)
        name = f"{keyword} ({_tag(keyword)}) is not one UID (PS3.5 9.1: {why})"
        if len(found) == 1 and _UID.fullmatch(found[0]) and why:
            setattr(ds, keyword, found[0])
            notes.append(f"{name}: read as the one UID it holds")
        elif found and why:
            notes.append(f"{name}: compared as written")
    return notes


def _raw_text(ds: Any, keyword: str) -> str | None:
    """The one value of ``keyword`` as written (its padding off), else ``None``.

    ``None`` when it holds several values, NUL or space bytes inside or in front (the notes of
    :func:`mend_uids` say those).
    """
    from pydicom.datadict import tag_for_keyword

    value = ds.get_item(tag_for_keyword(keyword)).value
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if not isinstance(text, str):
        return None
    text = text.rstrip("\x00 ") if isinstance(value, bytes) else text
    return None if "\\" in text or _why([text]) else text


def _wrong(text: str | None) -> str:
    """What in one UID ``text`` breaks PS3.5 9.1 (``""`` when nothing does).

    >>> _wrong("1.2.840.10008.AB.3")
    'holds letters'
    >>> _wrong("1.2.05..7_1")
    'holds characters other than digits and points, has an empty component and has a \
component with a leading zero'
    >>> _wrong("1." + "2" * 64)
    'is 66 characters long (at most 64)'
    """
    if not text or (len(text) <= _MAX and _UID.fullmatch(text)):
        return ""
    found = []
    if any(c.isalpha() for c in text):
        found.append("holds letters")
    if any(not (c.isalnum() or c == ".") for c in text):
        found.append("holds characters other than digits and points")
    parts = text.split(".")
    if any(p == "" for p in parts):
        found.append("has an empty component")
    if any(len(p) > 1 and p[0] == "0" for p in parts):
        found.append("has a component with a leading zero")
    if len(text) > _MAX:
        found.append(f"is {len(text)} characters long (at most {_MAX})")
    return ", ".join(found[:-1]) + f" and {found[-1]}" if len(found) > 1 else "".join(found)


def _why(texts: list[str]) -> str:
    if len(texts) > 1:
        return f"{len(texts)} values"
    text = texts[0]
    if "\x00" in text.rstrip("\x00") or text != text.strip():
        return "NUL or space bytes inside or in front"
    return ""  # other characters (some vendors' letters, a leading zero): see _wrong


def _tag(keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    tag = int(tag_for_keyword(keyword) or 0)
    return f"{tag >> 16:04X},{tag & 0xFFFF:04X}"
