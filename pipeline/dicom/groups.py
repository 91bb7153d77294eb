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


class FrameGroups:
    """One frame's functional group items, each group's sub-item looked up once.

    An Enhanced object of thousands of frames asks each frame for some twenty attributes.
    """

    def __init__(self, ds: Any, frame: int) -> None:
        self.ds = ds
        self.items = [seq[index] for seq, index in ((ds.get(_PER_FRAME), frame),
                      (ds.get(_SHARED), 0)) if seq and len(seq) > index]  # fmt: skip
        self._subs: dict[str, list[Any]] = {}

    def subs(self, group: str) -> list[Any]:
        """The first item of ``group`` in the Per-frame, then the Shared group (those present)."""
        found = self._subs.get(group)
        if found is None:
            found = self._subs[group] = [sub[0] for item in self.items if (sub := item.get(group))]
        return found


def attribute(
    ds: Any, group: str, keyword: str, frame: int = 0, view: FrameGroups | None = None
) -> Any:
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
    view
        The frame's :class:`FrameGroups`, when the caller asks for several attributes.

    Notes
    -----
    PS3.3 C.7.6.16: in an Enhanced object the functional groups describe the frames; a
    top-level copy (some vendors write one) must not override a frame's own value. A Legacy
    Converted Enhanced object's per-frame values of classic attributes are in its
    :data:`CONVERTED` groups, read after the named group and before the top level (whose
    copy, if any, holds one frame's value; OHIF #2193, highdicom PR #388).
    """
    if view is None:
        if _PER_FRAME not in ds and _SHARED not in ds:
            return ds.get(keyword)
        view = FrameGroups(ds, frame)
    for name in (group, *CONVERTED) if group else CONVERTED:
        for sub in view.subs(name):
            if keyword in sub:
                return sub.get(keyword)
    return ds.get(keyword)


__all__ = ["CONVERTED", "FrameGroups", "attribute"]
