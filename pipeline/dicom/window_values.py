"""The header's window: WindowCenter/WindowWidth and VOILUTFunction, read without raising.

They serve only ``--window header``: an unusable window is ignored, as a file without one
is, and the note says why (:func:`header_window`). Split from :mod:`pipeline.dicom.values`.
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom.groups import attribute, together
from pipeline.dicom.values import _show, numbers, tag_name
from pipeline.errors import DicomError
from pipeline.ops.voi import VOI_FUNCTIONS

__all__ = ["frame_window", "header_window", "voi_function"]


def voi_function(ds: Any) -> str:
    """VOILUTFunction (0028,1056) in upper case; ``LINEAR`` when absent or empty.

    ``ds`` is a data set, or the value itself (a frame's, from its functional group).
    """
    value = ds.get("VOILUTFunction") if hasattr(ds, "get") else ds
    return str(value or "LINEAR").strip().upper()


def header_window(
    center: Any, width: Any, function: str = "LINEAR"
) -> tuple[tuple[float, float] | None, str | None]:
    r"""The first WindowCenter/WindowWidth pair (or ``None``) and a note (why not, or how read).

    Never raises: a window only serves ``--window header``, so an unusable one (text, a
    non-finite value, unequal value counts, a width the VOILUTFunction cannot use, an
    unknown VOILUTFunction) is ignored, as a file without a window is, and the note says so.
    Several pairs (pydicom #330): the first is the default (PS3.3 C.11.2.1.2).

    Examples
    --------
    >>> header_window("40\\-600", "400\\1500")
    ((40.0, 400.0), None)
    >>> header_window(40, 0)
    (None, "WindowWidth 0 is not positive: the header's window is ignored")
    """
    ignored = ": the header's window is ignored"
    absent = [_absent(center), _absent(width)]
    if all(absent):
        return None, None
    if any(absent):
        missing = "WindowCenter" if absent[0] else "WindowWidth"
        return None, f"{tag_name(missing)} is missing{ignored}"
    said: list[str] = []  # a decimal comma read: said beside the window used
    try:
        centers = numbers(center, None, "WindowCenter", said)
        widths = numbers(width, None, "WindowWidth", said)
    except DicomError as err:
        return None, err.reason.rstrip(".") + ignored
    assert centers is not None and widths is not None
    if len(centers) != len(widths):
        return None, (f"{tag_name('WindowCenter')} has {len(centers)} values and "
                      f"{tag_name('WindowWidth')} {len(widths)}{ignored}")  # fmt: skip
    if function not in VOI_FUNCTIONS:
        return None, (f"VOILUTFunction (0028,1056) is none of {', '.join(VOI_FUNCTIONS)} "
                      f"(got {_show(function)}){ignored}")  # fmt: skip
    w = widths[0]
    if w <= 0:  # PS3.3 C.11.2.1.2: width >= 1 (LINEAR), > 0 (LINEAR_EXACT, SIGMOID)
        return None, f"WindowWidth {w:g} is not positive{ignored}"
    if w < 1 and function == "LINEAR":
        return None, f"WindowWidth {w:g} is below 1, the least a LINEAR window allows{ignored}"
    return (centers[0], w), ("; ".join(said) or None)  # a decimal comma, another delimiter


def frame_window(ds: Any, frame: int) -> tuple[tuple[float, float] | None, str | None, str]:
    """One frame's header window, its note (:func:`header_window`) and its VOILUTFunction.

    All three sit in the frame's Frame VOI LUT functional group (PS3.3 C.7.6.16.2.10):
    per-frame, else shared, else the top level (:func:`pipeline.dicom.groups.attribute`).
    The reader (:mod:`pipeline.dicom.read`) and the header check of ``inspect`` both use it.
    """
    written = attribute(ds, "FrameVOILUTSequence", "VOILUTFunction", frame)
    function = voi_function(written)
    center, width = together(ds, "FrameVOILUTSequence", ("WindowCenter", "WindowWidth"), frame)
    window, note = header_window(center, width, function)  # both from one item, never mixed
    if window is not None and written and str(written).rstrip(" \x00") != function:
        # CS values are upper case (PS3.5 6.2): "sigmoid" was applied as SIGMOID unsaid, where
        # a lower-case PhotometricInterpretation is noted
        said = (f"{tag_name('VOILUTFunction')} is written {str(written)[:16]!r}, not as the "
                f"defined term (upper case, PS3.5 6.2): read as {function}")  # fmt: skip
        note = f"{note}; {said}" if note else said
    return window, note, function


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str | bytes) and not value.strip())
