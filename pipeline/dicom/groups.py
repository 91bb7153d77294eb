"""Attributes of one frame of an Enhanced (multi-frame functional group) object.

PS3.3 C.7.6.16; the top level is the fallback for classic objects.
"""

from __future__ import annotations

from typing import Any


def attribute(ds: Any, group: str, keyword: str, frame: int = 0) -> Any:
    """``keyword`` of one frame: Per-frame group, then Shared group, then the top level.

    Parameters
    ----------
    ds
        A pydicom Dataset.
    group
        The functional group sequence keyword (e.g. ``PlanePositionSequence``).
    keyword
        The attribute inside it (e.g. ``ImagePositionPatient``).
    frame
        0-based frame index.

    Notes
    -----
    PS3.3 C.7.6.16: in an Enhanced object the functional groups describe the frames; a
    top-level copy (some vendors write one) must not override a frame's own value.
    """
    for seq_name, index in (("PerFrameFunctionalGroupsSequence", frame),
                            ("SharedFunctionalGroupsSequence", 0)):  # fmt: skip
        seq = ds.get(seq_name)
        sub = seq[index].get(group) if seq and len(seq) > index else None
        if sub and keyword in sub[0]:
            return sub[0].get(keyword)
    return ds.get(keyword)


__all__ = ["attribute"]
