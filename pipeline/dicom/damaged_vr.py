r"""A damaged Value Representation in an explicit-VR header, said with its bytes and its tag.

Two bytes of VR (PS3.5 7.1.2) that name no DICOM VR break a header in one of two ways:

* bytes outside ``AA``-``ZZ`` (``b'\x07Z'``, ``b'zz'``): pydicom takes the element for an
  implicit-VR one (a writer that switched encoding, pydicom #1067), so the VR and length
  bytes become a 4-byte length that swallows the rest of the file. The data set then ended
  at that element, and radpipe said "truncated or incomplete file" or "no pixel data";
* two capitals that are no VR (``QQ``): pydicom reads the element with a 2-byte length and
  raises ``Unknown Value Representation 'QQ' in tag (0028,0010)`` when it is used; the VR was
  quoted, so it was hashed like a value (``'#a3a77a46'``).

The VR bytes are no patient data: both are said escaped (``b'\x07Z'``), with the tag and
its keyword.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["swallowed_by_bad_vr", "unknown_vr"]

_UNKNOWN = re.compile(
    r"Unknown Value Representation '((?:0x[0-9a-fA-F]{2} ?){2}|[A-Za-z]{2})'"
    r"(?: in tag \(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\))?"
)


def _named(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    keyword = keyword_for_tag(tag)
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})" + (f" {keyword}" if keyword else "")


def unknown_vr(message: str) -> str | None:
    r"""The words for pydicom's ``Unknown Value Representation`` message; ``None`` for another.

    Examples
    --------
    >>> unknown_vr("Unknown Value Representation 'QQ' in tag (0028,0010)")
    "damaged header: (0028,0010) Rows has Value Representation b'QQ', which is no DICOM VR"
    >>> unknown_vr("Unknown Value Representation '0x07 0x5a'")
    "damaged header: an element has Value Representation b'\\x07Z', which is no DICOM VR"
    """
    found = _UNKNOWN.search(message)
    if found is None:
        return None
    said, group, element = found.groups()
    vr = bytes(int(h, 16) for h in said.split()) if said.startswith("0x") else said.encode()
    where = _named(int(group + element, 16)) if group else "an element"
    return f"damaged header: {where} has Value Representation {vr!r}, which is no DICOM VR"


def swallowed_by_bad_vr(ds: Any, path: str | Path) -> str | None:
    """Why ``ds`` ends early: its last element's VR bytes were no VR, ``None`` otherwise.

    Only an explicit-VR data set read from ``path`` is looked at (its top level's last
    element, the one that took the rest of the file for its value).
    """
    from pipeline.dicom.syntaxes import DEFLATED

    implicit, _ = getattr(ds, "original_encoding", (None, None))
    meta = getattr(ds, "file_meta", None)
    deflated = meta is not None and meta.get("TransferSyntaxUID") == DEFLATED
    if implicit is not False or not len(ds) or deflated:  # deflated: offsets are not the file's
        return None
    last = ds.get_item(max(ds.keys()), keep_deferred=True)
    tell, length = getattr(last, "value_tell", None), getattr(last, "length", 0)
    if getattr(last, "VR", "") is not None or tell is None or length == 0xFFFFFFFF:
        return None
    size = os.stat(path).st_size
    if tell + length <= size:
        return None
    with open(path, "rb") as fh:
        fh.seek(tell - 4)
        vr = fh.read(2)
    if b"AA" <= vr <= b"ZZ":  # a VR pydicom knows or reads with a 2-byte length
        return None
    return (
        f"damaged header: {_named(int(last.tag))} has Value Representation {vr!r}, which is no "
        f"DICOM VR; read as an implicit-VR element, its length ({length:,} bytes) runs past the "
        "end of the file, so the elements after it (the pixel data too) are lost"
    )
