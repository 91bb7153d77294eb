"""Text that is UTF-8 but declared Latin-1 (or not declared): said, left as read.

Many writers put UTF-8 bytes in text values and leave SpecificCharacterSet (0008,0005) absent
or ``ISO_IR 100``. pydicom then decodes them as Latin-1, as declared, and every character past
ASCII shows as two or three (``SchÃ¤del`` for ``Schädel``), unsaid: a mixed folder's series
descriptions differ although the scanner meant one. Latin-1 text rarely forms valid UTF-8
multi-byte sequences (a letter such as ``ä`` is one byte, 0xE4, which UTF-8 reads as the
start of a three-byte sequence that the next letter does not continue), so bytes valid as
UTF-8 with a multi-byte character are a strong sign. radpipe keeps the value as declared
(PS3.5 6.1: the declared character set rules) and says what it found.
"""

from __future__ import annotations

from typing import Any

from pydicom.datadict import tag_for_keyword

#: SpecificCharacterSet values under which pydicom decodes bytes past ASCII as Latin-1
#: (absent or empty: the default repertoire, which pydicom reads as Latin-1 too).
_LATIN_1 = frozenset({"", "ISO_IR 100", "ISO 2022 IR 100", "ISO_IR 6", "ISO 2022 IR 6"})

#: The text values radpipe shows (inspect's series line, index.json).
SHOWN = ("SeriesDescription",)


def utf8_read_as_latin1(ds: Any, keywords: tuple[str, ...] = SHOWN) -> list[str]:
    """A note for each of ``keywords`` whose value looks like UTF-8 read as Latin-1.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.SeriesDescription = "SchÃ¤del"  # the UTF-8 bytes of 'Schädel', read as Latin-1
    >>> utf8_read_as_latin1(ds)[0].split(":")[0]
    'SeriesDescription (0008,103E) looks like UTF-8 text read as Latin-1'
    >>> ds.SeriesDescription = "Schädel"  # Latin-1 text: nothing to say
    >>> utf8_read_as_latin1(ds)
    []
    """
    found = [keyword for keyword in keywords if _utf8_bytes(ds.get(keyword))]
    if not found:  # first: a plain file's checks read only the values it holds (plain_memo)
        return []
    declared = ds.get("SpecificCharacterSet")
    values = [] if declared is None else [declared] if isinstance(declared, str) else declared
    terms = [str(v).strip() for v in values]
    if any(t not in _LATIN_1 for t in terms):
        return []
    shown = "absent (the default repertoire)" if not any(terms) else "\\".join(t for t in terms)
    return [
        f"{keyword} {_tag(keyword)} looks like UTF-8 text read as Latin-1: its bytes are valid "
        f"UTF-8 with multi-byte characters, while SpecificCharacterSet (0008,0005) is {shown}, "
        "so each such character shows as two or three ('Ã¤' for 'ä'), the writer probably "
        "meant ISO_IR 192 (UTF-8), left as declared"
        for keyword in found
    ]


def _utf8_bytes(value: Any) -> bool:
    """Whether a decoded text value's Latin-1 bytes are UTF-8 with a multi-byte character."""
    if value is None:
        return False
    text = str(value) if isinstance(value, str) else "\\".join(str(v) for v in value)
    try:
        raw = text.encode("latin-1")
        raw.decode("utf-8")
    except UnicodeError:
        return False
    return not raw.isascii()


def _tag(keyword: str) -> str:
    tag = tag_for_keyword(keyword) or 0
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
