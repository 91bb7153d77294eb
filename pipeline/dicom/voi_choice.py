"""Which of several header windows or VOI LUTs ``--window header`` uses, said in the manifest.

WindowCenter/WindowWidth (0028,1050)/(0028,1051) may hold several pairs and the VOI LUT
Sequence (0028,3010) several items, alternative views (``SOFT TISSUE``, ``LUNG``) described by
WindowCenterWidthExplanation (0028,1055) or LUTExplanation (0028,3003). The first is the
default (PS3.3 C.11.2.1.2; pydicom's ``apply_voi_lut`` takes index 0 too), and radpipe used it
without a word: a user who expected the lung window got the soft-tissue one and a manifest
``window`` cell of ``header``. The cell now says which: ``header (WindowCenter/WindowWidth 1
of 2: SOFT TISSUE)``. This is information, not a defect of the file, so ``problems`` (and
``--strict``) are left alone.

PS3.3 C.11.2.1.2 gives one explanation per window ("multiple values correspond to multiple
Window Center and Width values"). When the counts differ (3 names for 2 windows, 1 for 2),
which name is the first window's is unknown: the cell says the window is not named and why,
rather than the first name (until 2026-12-03 the first name, perhaps another window's).
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.dicom.groups import attribute
from pipeline.dicom.values import numbers
from pipeline.errors import DicomError
from pipeline.words import counted

__all__ = ["voi_choice"]

#: An explanation is shown when it is a short plain term (a window's name, no patient data).
_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.,/+-]{0,31}")


def _values(value: Any) -> list[Any]:
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        return []
    several = isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"
    return list(value) if several else [value]


def _window_count(value: Any) -> int:
    """How many windows WindowCenter holds, as the reader parses it: ``40;-600`` is two."""
    try:
        return len(numbers(value, None, "WindowCenter") or ())
    except (DicomError, TypeError, ValueError):
        return len(_values(value))


def _explained(value: Any) -> str:
    first = _values(value)[:1]
    term = str(first[0]).strip() if first else ""
    return f": {term}" if _TERM.fullmatch(term) else ""


def voi_choice(ds: Any, frame: int, *, lut: bool) -> str:
    """What ``--window header`` chose for ``frame`` among several; ``""`` when there was one.

    ``lut``: the frame's VOI LUT Sequence is used (else its window).

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
    >>> ds.WindowCenterWidthExplanation = ["SOFT TISSUE", "LUNG"]
    >>> voi_choice(ds, 0, lut=False)
    'WindowCenter/WindowWidth 1 of 2: SOFT TISSUE'
    >>> ds.VOILUTSequence = [Dataset()]
    >>> voi_choice(ds, 0, lut=True)
    'VOILUTSequence, not its 2 WindowCenter/WindowWidth windows'
    """
    count = _window_count(attribute(ds, "FrameVOILUTSequence", "WindowCenter", frame))
    if lut:
        return _lut_choice(ds, frame, count)
    if count < 2:
        return ""
    said = _values(attribute(ds, "FrameVOILUTSequence", "WindowCenterWidthExplanation", frame))
    if len(said) not in (0, count):  # one name per window (C.11.2.1.2): which is whose?
        return (f"WindowCenter/WindowWidth 1 of {count}, not named: WindowCenterWidthExplanation "
                f"(0028,1055) holds {counted(len(said), 'name')} for {count} windows")  # fmt: skip
    return f"WindowCenter/WindowWidth 1 of {count}" + _explained(said)


def _lut_choice(ds: Any, frame: int, windows: int) -> str:
    """The VOI LUT used, among its items and beside ``windows`` WindowCenter/WindowWidth.

    A VOI LUT and a window in one header are alternatives too (PS3.3 C.11.2.1.2); the LUT
    is used (as pydicom's ``apply_voi_lut`` prefers it), and until 2026-12-03 the window cell
    said ``header`` alone, the windows beside it unmentioned.
    """
    items = list(attribute(ds, "FrameVOILUTSequence", "VOILUTSequence", frame) or ())
    if len(items) < 2 and not windows:
        return ""
    which = f"VOILUTSequence item 1 of {len(items)}" if len(items) > 1 else "VOILUTSequence"
    beside = f", not its {counted(windows, 'WindowCenter/WindowWidth window')}" if windows else ""
    return which + _explained(items[0].get("LUTExplanation")) + beside
