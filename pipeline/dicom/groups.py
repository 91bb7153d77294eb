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


#: The view of a frame of a classic file (no functional groups): :func:`attribute` gives the
#: top level's value without asking the data set for its groups again, as it would for
#: ``view=None`` (for callers that know the file has none).
CLASSIC = FrameGroups.__new__(FrameGroups)
CLASSIC.ds, CLASSIC.items, CLASSIC._subs = None, [], {}


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
    elif view is CLASSIC:  # no groups: the top level's (what the loop below would find)
        return ds.get(keyword)
    for name in (group, *CONVERTED) if group else CONVERTED:
        for sub in view.subs(name):
            if keyword in sub:
                return sub.get(keyword)
    return ds.get(keyword)


def together(ds: Any, group: str, keywords: tuple[str, ...], frame: int = 0) -> tuple[Any, ...]:
    """``keywords`` of one frame read from one place: the first that holds any of them.

    :func:`attribute` looks each keyword up on its own, so a Per-frame Frame VOI LUT item
    holding WindowCenter without WindowWidth took the width from the Shared group or the top
    level: one frame's center with another item's width, silently. Read together, a value
    its item lacks is missing (and said so by the caller).
    """
    if _PER_FRAME not in ds and _SHARED not in ds:
        return tuple(ds.get(k) for k in keywords)
    view = FrameGroups(ds, frame)
    for name in (group, *CONVERTED) if group else CONVERTED:
        for sub in view.subs(name):
            if any(k in sub for k in keywords):
                return tuple(sub.get(k) for k in keywords)
    return tuple(ds.get(k) for k in keywords)


__all__ = ["CLASSIC", "CONVERTED", "FrameGroups", "attribute", "together"]


#: Where an Enhanced US Volume (PS3.3 A.59, C.8.24.2) places its frames when no patient
#: plane is given: the Plane Position / Orientation (Volume) macros, in the Volume Frame of
#: Reference of the transducer (Sup 43: every frame at (0, 0, z), rows along x).
_VOLUME_PLANE = {
    "ImagePositionPatient": ("PlanePositionVolumeSequence", "ImagePositionVolume"),
    "ImageOrientationPatient": ("PlaneOrientationVolumeSequence", "ImageOrientationVolume"),
}
_PATIENT_PLANE = {
    "ImagePositionPatient": "PlanePositionSequence",
    "ImageOrientationPatient": "PlaneOrientationSequence",
}

#: What a frame placed by :data:`_VOLUME_PLANE` says (once per series).
VOLUME_PLANE_NOTE = (
    "placed in the ultrasound volume frame of reference: ImagePositionVolume (0020,9301) and "
    "ImageOrientationVolume (0020,9302) give the frames' order, spacing and time points, and "
    "the affine is in the transducer's volume coordinates, not the patient's"
)


def plane(ds: Any, keyword: str, frame: int = 0, view: FrameGroups | None = None) -> Any:
    """ImagePositionPatient or ImageOrientationPatient of one frame (:func:`attribute`).

    An Enhanced US Volume's frames have none: their volume position or orientation stands
    for it (:data:`_VOLUME_PLANE`; :func:`volume_placed` says whether a frame is placed so).
    Stacked unplaced, the frames of a 4-D volume (time points of three slices each) came out
    as one volume of every time point's slices in turn.
    """
    found = attribute(ds, _PATIENT_PLANE[keyword], keyword, frame, view)
    if found is None:
        found = _volume_value(ds, keyword, frame, view)
    return found


def volume_placed(ds: Any, frame: int = 0, view: FrameGroups | None = None) -> bool:
    """Whether :func:`plane` places ``frame`` by its volume position (no patient position)."""
    return (
        attribute(ds, "PlanePositionSequence", "ImagePositionPatient", frame, view) is None
        and _volume_value(ds, "ImagePositionPatient", frame, view) is not None
    )


def _volume_value(ds: Any, keyword: str, frame: int, view: FrameGroups | None) -> Any:
    """The frame's volume position or orientation standing for ``keyword``; ``None`` if none."""
    if view is None:
        if _PER_FRAME not in ds and _SHARED not in ds:
            return None
        view = FrameGroups(ds, frame)
    group, name = _VOLUME_PLANE[keyword]
    return next((sub.get(name) for sub in view.subs(group) if name in sub), None)
