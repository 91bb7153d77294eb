"""Display shutters (PS3.3 C.7.6.11): parts of a radiograph a viewer blanks, told to the user.

A CR, DX, XA or RF image may carry a Display Shutter: ShutterShape (0018,1600) RECTANGULAR,
CIRCULAR, POLYGONAL and/or BITMAP, whose edges (0018,1602-1608), circle (0018,1610/1612) or
vertices (0018,1620) bound the part to show; a viewer paints everything outside with the
ShutterPresentationValue (0018,1622), black by default (the collimated margins, the detector
outside the beam). pydicom, dcm2niix and ITK leave the pixels as stored, and so does radpipe,
which until now wrote those margins (bright scatter or raw detector values) unsaid, so a model
saw what no reader of the image sees. The note says what the shutter is and that it was not
applied.
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom.values import lenient_number, numbers, numbers_or_none
from pipeline.errors import DicomError

__all__ = ["shutter_note"]

_EDGES = ("ShutterLeftVerticalEdge", "ShutterRightVerticalEdge",
          "ShutterUpperHorizontalEdge", "ShutterLowerHorizontalEdge")  # fmt: skip


def _shapes(ds: Any) -> list[str]:
    value = ds.get("ShutterShape")
    values = [value] if isinstance(value, str) else list(value or [])
    return [str(v).strip().upper() for v in values if str(v).strip()]


def _where(ds: Any, shape: str) -> str:
    """The shutter's bounds in pixels, as the header gives them (``""`` when unreadable)."""
    if shape == "RECTANGULAR":
        edges = [lenient_number(ds.get(k)) for k in _EDGES]
        if None not in edges:
            left, right, upper, lower = (int(e) for e in edges)  # type: ignore[arg-type]
            return f" columns {left}-{right}, rows {upper}-{lower}"
    elif shape == "CIRCULAR":
        centre = numbers_or_none(ds.get("CenterOfCircularShutter"), 2)
        radius = lenient_number(ds.get("RadiusOfCircularShutter"))
        if centre is not None and radius is not None:
            return f" centre row {centre[0]:g}, column {centre[1]:g}, radius {radius:g}"
    elif shape == "POLYGONAL":
        vertices = _all_numbers(ds.get("VerticesOfThePolygonalShutter"))
        if vertices:
            return f" of {len(vertices) // 2} vertices"
    return ""


def _all_numbers(value: Any) -> list[float]:
    try:
        return list(numbers(value, None, "") or [])
    except (DicomError, TypeError, ValueError):
        return []


def shutter_note(ds: Any) -> str:
    """A note when the image has a Display Shutter, which is not applied; ``""`` otherwise.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.ShutterShape = "CIRCULAR"
    >>> ds.CenterOfCircularShutter, ds.RadiusOfCircularShutter = [256, 250], 200
    >>> shutter_note(ds)[:78]
    'display shutter not applied: ShutterShape (0018,1600) CIRCULAR (centre row 256'
    """
    shapes = _shapes(ds)
    if not shapes:
        return ""
    said = ", ".join(f"{s}{' (' + w.strip() + ')' if (w := _where(ds, s)) else ''}" for s in shapes)
    value = lenient_number(ds.get("ShutterPresentationValue"))
    shown = f"as ShutterPresentationValue {value:g}" if value is not None else "black"
    return (
        f"display shutter not applied: ShutterShape (0018,1600) {said}: the pixels outside "
        f"it (a viewer shows them {shown}) are written as stored"
    )
