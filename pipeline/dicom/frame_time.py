"""Times of frames: DICOM TM and DT values as seconds (PS3.5 6.2: TM, DA, DT)."""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from pipeline.dicom.groups import FrameGroups, attribute

__all__ = ["dicom_seconds", "frame_seconds"]


def dicom_seconds(value: Any, date: Any = None, *, dt: bool = False) -> float | None:
    """DICOM TM ``HHMMSS.FFFFFF``, or a DT, to seconds; from 0001-01-01 when a date is known.

    A value of more than 6 digits is a DT (``dt``: a DT even with fewer, a year or a month),
    read to the precision it has: ``2020010212`` is 12:00:00 that day.

    A DT carries its date (its UTC offset is dropped); a TM takes ``date`` (DA
    ``YYYYMMDD``, the AcquisitionDate or ContentDate beside it). Without a date the seconds
    count from midnight, so only then does a series that crosses midnight order its images
    wrongly (it did even with the dates there: 23:59:50 came after 00:00:10).
    """
    text = str(value or "").strip()
    text = text.split("+")[0].split("-")[0].replace(":", "")  # a DT offset, ACR-NEMA colons
    digits = text.split(".")[0]
    if digits.isdigit() and (len(digits) > 6 or dt):  # a DT; a TM has at most 6 digits
        # DT YYYY[MM[DD[HH[MM[SS[.F]]]]]] (PS3.5 6.2): a DT cut to the hour or the minute
        # ("202001021230") was read as the time 20:20 plus 1021230 s
        date, text = (digits[:8] + "0101"[max(0, len(digits) - 4) :])[:8], text[8:]
    try:
        hh, mm = int(text[0:2] or 0), int(text[2:4] or 0)
        seconds = hh * 3600 + mm * 60 + float(text[4:] or 0)
    except ValueError:
        return None
    day = str(date or "").strip()
    if len(day) == 8 and day.isdigit():
        with contextlib.suppress(ValueError):  # not a date: time of day only
            ordinal = datetime.date(int(day[:4]), int(day[4:6]), int(day[6:])).toordinal()
            seconds += ordinal * 86400.0
    return seconds


def frame_seconds(ds: Any, frame: int, view: FrameGroups | None = None) -> float | None:
    """A frame's acquisition time in seconds (:func:`dicom_seconds`), ``None`` when unknown.

    FrameAcquisitionDateTime of its Frame Content group, else AcquisitionTime with
    AcquisitionDate, else ContentTime with ContentDate.
    """
    for group, keyword, date in (("FrameContentSequence", "FrameAcquisitionDateTime", ""),
                                 ("", "AcquisitionTime", "AcquisitionDate"),
                                 ("", "ContentTime", "ContentDate")):  # fmt: skip
        value = attribute(ds, group, keyword, frame, view)
        if value not in (None, ""):
            day = attribute(ds, "", date, frame, view) if date else None
            return dicom_seconds(value, day, dt=not date)
    return None
