"""The time step of an Enhanced XA or XRF cine, from its frames' own times.

An Enhanced XA or Enhanced XRF image (PS3.3 A.47, A.48) is one multi-frame file of a
projection over time, like a classic XA cine, but its IOD has no Cine or Multi-frame Module:
no FrameTime (0018,1063), FrameTimeVector (0018,1065) or FrameIncrementPointer (0028,0009)
(:mod:`pipeline.dicom.cine` reads those for classic files). Each frame's time is in its Frame
Content functional group (PS3.3 C.7.6.16.2.2): FrameAcquisitionDateTime (0018,9074), when the
acquisition of the frame's data started, and FrameReferenceDateTime (0018,9151), the moment
most representative of it (both DT; Type 1C, required for ORIGINAL frames). Unread, such a
cine was written 3-D with a frame step of 1: its frame rate lost, unsaid.

The step is the mean interval between consecutive frames, from FrameAcquisitionDateTime, else
FrameReferenceDateTime, when that is given for every frame and its intervals are above 0 and
even: within :data:`EVEN` of their mean (clocks that round to the millisecond make a 30
frames/s cine's 33.3 ms 33 or 34 ms apart; a cine whose rate changes, or that dropped frames,
has intervals twice as long). Otherwise the step is unknown, and said (a NIfTI has one time
step). dcm2niix reads neither (its FrameAcquisitionDateTime reader is disabled: some
de-identification scrambles the values, dcm2niix #303), so its NIfTI of such a file has no
time step either, unsaid; an uneven or scrambled clock here gives no step and a note.

RecommendedDisplayFrameRate (0008,2144) and RecommendedDisplayFrameRateInFloat (0008,9459,
in the Frame Display Sequence of the XA/XRF Multi-frame Presentation module) are not read as
a fallback step: PS3.3 defines them as the rate at which to display the frames, a viewer's
setting that need not be the rate they were acquired at.

A frame without FrameAcquisitionDateTime among frames that give one sorted first in
acquisition order (:func:`stored_order` keeps the stored order instead, said).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from typing import Any

from pipeline.dicom.frame_time import dicom_seconds
from pipeline.dicom.groups import FrameGroups, attribute

__all__ = ["EVEN", "enhanced_intervals", "stored_order"]

#: The SOP classes of projection cines with functional groups (PS3.4 B.5).
_XRAY = {"1.2.840.10008.5.1.4.1.1.12.1.1": "Enhanced XA",
         "1.2.840.10008.5.1.4.1.1.12.2.1": "Enhanced XRF"}  # fmt: skip
_SOURCES = (("FrameAcquisitionDateTime", "(0018,9074)"), ("FrameReferenceDateTime", "(0018,9151)"))
#: How far apart (max - min) the intervals of an even cine may be, as a part of their mean.
EVEN = 0.1


def enhanced_intervals(ds: Any, count: int) -> tuple[list[float | None] | None, str]:
    """Per frame of an Enhanced XA/XRF cine, its time (ms) after the frame before, and a note.

    ``([None, step, step, ...], "")`` when the frames' times give an even step (see the
    module); ``(None, note)`` when they give none (missing, not increasing or uneven);
    ``(None, "")`` for other objects and a single frame.
    """
    name = _XRAY.get(str(ds.get("SOPClassUID") or "").strip())
    if name is None or count < 2:
        return None, ""
    views = [FrameGroups(ds, f) for f in range(count)]
    found: list[tuple[str, list[float]]] = []
    for keyword, tag in _SOURCES:
        read = [_seconds(attribute(ds, "FrameContentSequence", keyword, f, v))
                for f, v in enumerate(views)]  # fmt: skip
        seconds = [s for s in read if s is not None]
        if len(seconds) < count:
            continue
        steps = [1000.0 * ((b[0] - a[0]) + (b[1] - a[1]))
                 for a, b in pairwise(seconds)]  # fmt: skip
        mean = sum(steps) / len(steps)
        if min(steps) > 0 and max(steps) - min(steps) <= EVEN * mean:
            return [None, *([mean] * (count - 1))], ""
        found.append((f"{keyword} {tag}", steps))
    return None, _unknown(name, count, found)


def stored_order(ds: Any, refs: list[Any]) -> list[Any]:
    """The frames (``FrameRef``) of an Enhanced XA/XRF cine, in stored order when some lack a time.

    A frame without FrameAcquisitionDateTime took the file's AcquisitionTime (when it began)
    or no time (read as 0): it sorted first in acquisition order, before frames acquired
    earlier, unsaid. When some frames give one and some do not, every frame takes the
    earliest time found (so the file keeps its place among others) and they keep the order
    they are stored in, with a note. Other objects, and frames that all or none give one, are
    left as they are.
    """
    name = _XRAY.get(str(ds.get("SOPClassUID") or "").strip())
    if name is None or len(refs) < 2:
        return refs
    keyword, tag = _SOURCES[0]
    given = [attribute(ds, "FrameContentSequence", keyword, r.frame) not in (None, "")
             for r in refs]  # fmt: skip
    if all(given) or not any(given):
        return refs
    missing = [str(r.frame + 1) for r, g in zip(refs, given, strict=True) if not g]
    shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
    note = (f"frame order: {len(missing)} of the {len(refs)} frames of an {name} image (frame "
            f"{shown}) give no {keyword} {tag}: the frames are kept in their stored order, not "
            "sorted by their times")  # fmt: skip
    first = min((r.time for r in refs if r.time is not None), default=None)
    said = f"{refs[0].note}; {note}" if refs[0].note else note  # after the step's own note
    return [replace(r, time=first, note=said if r.note == refs[0].note else r.note or note)
            for r in refs]  # fmt: skip


def _seconds(value: Any) -> tuple[float, float] | None:
    """A DT as the seconds of its date (from 0001-01-01) and of its time of day.

    Apart, so that the milliseconds between frames keep their digits (added, a date's
    6e10 s hold them to about 8 us: 40 ms came out 39.998). ``None`` when absent or
    unreadable; read as :func:`~pipeline.dicom.frame_time.dicom_seconds` reads a DT.
    """
    text = str(value or "").strip()
    digits = text.split(".")[0].split("+")[0].split("-")[0]
    if len(digits) < 8 or not digits.isdigit():  # no date, or a year or a month only
        whole = dicom_seconds(text, dt=True) if text else None
        return None if whole is None else (whole, 0.0)
    day = dicom_seconds(digits[:8], dt=True)
    clock = dicom_seconds("00010101" + text[8:], dt=True)  # its time of day, on day 1
    return None if day is None or clock is None else (day, clock)


def _unknown(name: str, count: int, found: list[tuple[str, list[float]]]) -> str:
    """Why the frames of an Enhanced XA/XRF cine give no time step."""
    said = (f"cine time step unknown: the {count} frames of an {name} image (no FrameTime: "
            "their times are in Frame Content (0020,9111), PS3.3 C.7.6.16.2.2)")  # fmt: skip
    end = "the frames are written without a time step"
    if not found:
        return (f"{said} do not all give a FrameAcquisitionDateTime (0018,9074) or "
                f"FrameReferenceDateTime (0018,9151): {end}")  # fmt: skip
    source, steps = found[0]
    low, high = min(steps), max(steps)
    if low <= 0:
        return (f"{said} do not follow each other in time by {source} (an interval of "
                f"{low:.4g} ms): {end}")  # fmt: skip
    return (f"{said} are {low:.4g} to {high:.4g} ms apart by {source}, uneven (a frame rate "
            f"that changes, or dropped frames): {end}")  # fmt: skip
