"""Overlay planes (PS3.3 C.9.2): graphics a viewer draws over the image, told the user.

An image may carry up to 16 overlay planes, groups (6000-601E,xxxx), each a bit plane in
Overlay Data (60xx,3000): graphics (OverlayType ``G``: annotations, markers, a vendor's
measurement lines) or a region of interest (``R``). dcmtk, Weasis and most viewers draw
them over the image; pydicom, dcm2niix and ITK leave the pixels as stored, and so does
radpipe (a model should not learn burnt-in marks). It was unsaid, so an image a reader sees
with its marks came out without them, and a user looking for an ROI drawn as an overlay
found nothing. The note names the plane, its type, size and how many of its pixels are set;
no free text (OverlayDescription, OverlayLabel) is shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["overlay_note"]


def _value(ds: Any, group: int, element: int) -> Any:
    found = ds.get((group << 16) | element)
    return getattr(found, "value", found)


def _plane(ds: Any, group: int) -> str:
    """One plane in words (``""`` when it has no Overlay Data)."""
    data = _value(ds, group, 0x3000)
    if not data:
        return ""
    rows, columns = _value(ds, group, 0x0010), _value(ds, group, 0x0011)
    kind = str(_value(ds, group, 0x0040) or "").strip().upper()
    said = f"({group:04X},3000)" + (f" type {kind}" if kind in ("G", "R") else "")
    try:
        size = int(rows) * int(columns) * max(int(_value(ds, group, 0x0015) or 1), 1)
        bits = np.unpackbits(np.frombuffer(bytes(data), np.uint8), bitorder="little")[:size]
    except (TypeError, ValueError):
        return said
    return f"{said} {int(rows)}x{int(columns)}, {int(bits.sum()):,} of {size:,} pixels set"


def overlay_note(ds: Any) -> str:
    """A note when the image has overlay planes with Overlay Data; ``""`` otherwise.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.add_new(0x60000010, "US", 2)
    >>> ds.add_new(0x60000011, "US", 4)
    >>> ds.add_new(0x60000040, "CS", "G")
    >>> ds.add_new(0x60003000, "OW", bytes([0b00000110, 0]))
    >>> overlay_note(ds)[:64]
    'overlay not drawn: (6000,3000) type G 2x4, 2 of 8 pixels set: a '
    """
    planes = []
    for group in range(0x6000, 0x6020, 2):
        try:
            said = _plane(ds, group)
        except (AttributeError, KeyError, TypeError, ValueError):
            continue  # an unreadable overlay element: nothing known to say
        if said:
            planes.append(said)
    if not planes:
        return ""
    them = "it" if len(planes) == 1 else "them"
    return (
        f"overlay not drawn: {' and '.join(planes)}: a viewer draws {them} over the image "
        f"(PS3.3 C.9.2), the pixels written as stored, without {them}"
    )
