"""Times of frames: DICOM TM and DT values as seconds (PS3.5 6.2: TM, DA, DT)."""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from pipeline.dicom.groups import FrameGroups, attribute

__all__ = ["dicom_seconds", "frame_seconds"]


def dicom_seconds(value: Any, date: Any = None) -> float | None:
    """DICOM TM ``HHMMSS.FFFFFF``, or a DT, to seconds; from 0001-01-01 when a date is known.

    A DT carries its date (its UTC offset is dropped); a TM takes ``date`` (DA
    ``YYYYMMDD``, the AcquisitionDate or ContentDate beside it). Without a date the seconds
    count from midnight, so only then does a series that crosses midnight order its images
    wrongly (it did even with the dates there: 23:59:50 came after 00:00:10).
    """
    text = str(value or "").strip()
    if len(text) >= 14 and text[:8].isdigit():  # DT: YYYYMMDDHHMMSS...
        date, text = text[:8], text[8:]
    text = text.split("+")[0].split("-")[0].replace(":", "")  # a DT offset, ACR-NEMA colons
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
            return dicom_seconds(value, attribute(ds, "", date, frame, view) if date else None)
    return None
