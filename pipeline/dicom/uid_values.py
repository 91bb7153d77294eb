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
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["mend_uids"]

_GROUPING = ("SeriesInstanceUID", "StudyInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


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


def _why(texts: list[str]) -> str:
    if len(texts) > 1:
        return f"{len(texts)} values"
    text = texts[0]
    if "\x00" in text.rstrip("\x00") or text != text.strip():
        return "NUL or space bytes inside or in front"
    return ""  # other characters (some vendors' letters, a leading zero): left alone, unsaid


def _tag(keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    tag = int(tag_for_keyword(keyword) or 0)
    return f"{tag >> 16:04X},{tag & 0xFFFF:04X}"
