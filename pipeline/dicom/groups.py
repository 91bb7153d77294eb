"""Attributes of one frame of an Enhanced (multi-frame functional group) object.

PS3.3 C.7.6.16; the top level is the fallback for classic objects.
"""

from __future__ import annotations

from typing import Any

_PER_FRAME, _SHARED = "PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"

#: Where a Legacy Converted Enhanced object (PS3.3 A.70-A.72, C.7.6.16.2.24-25) keeps the
#: attributes of its classic source images that no functional group holds: EchoTime,
#: EchoNumbers, AcquisitionNumber, InstanceNumber, ConvolutionKernel, AcquisitionTime per frame
#: (in its Per-frame group) or for all frames (in its Shared group).
CONVERTED = (
    "UnassignedPerFrameConvertedAttributesSequence",
    "UnassignedSharedConvertedAttributesSequence",
)

_ABSENT = object()


def attribute(ds: Any, group: str, keyword: str, frame: int = 0) -> Any:
    """``keyword`` of one frame: Per-frame group, then Shared group, then the top level.

    Parameters
    ----------
    ds
        A pydicom Dataset.
    group
        The functional group sequence keyword (e.g. ``PlanePositionSequence``); ``""`` for
        an attribute that no functional group holds (only the converted attributes and the
        top level are looked at).
    keyword
        The attribute inside it (e.g. ``ImagePositionPatient``).
    frame
        0-based frame index.

    Notes
    -----
    PS3.3 C.7.6.16: in an Enhanced object the functional groups describe the frames; a
    top-level copy (some vendors write one) must not override a frame's own value. A Legacy
    Converted Enhanced object's per-frame values of classic attributes are in its
    :data:`CONVERTED` groups, read after the named group and before the top level (whose
    copy, if any, holds one frame's value; OHIF #2193, highdicom PR #388).
    """
    if _PER_FRAME not in ds and _SHARED not in ds:
        return ds.get(keyword)
    for name in (group, *CONVERTED) if group else CONVERTED:
        found = _grouped(ds, name, keyword, frame)
        if found is not _ABSENT:
            return found
    return ds.get(keyword)


def _grouped(ds: Any, group: str, keyword: str, frame: int) -> Any:
    """``keyword`` in the frame's ``group`` (Per-frame, then Shared), else :data:`_ABSENT`."""
    for seq_name, index in ((_PER_FRAME, frame), (_SHARED, 0)):
        seq = ds.get(seq_name)
        sub = seq[index].get(group) if seq and len(seq) > index else None
        if sub and keyword in sub[0]:
            return sub[0].get(keyword)
    return _ABSENT


__all__ = ["CONVERTED", "attribute"]
