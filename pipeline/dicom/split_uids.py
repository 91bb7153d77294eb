"""One acquisition filed under several SeriesInstanceUIDs, one slice position each.

A series holds one SeriesInstanceUID (PS3.3 C.7.3.1), and radpipe groups by it, never by
folder. Some writers break that: Canon MR consoles' classic exports give every slice of a
4-D series (fMRI, DTI) a SeriesInstanceUID of its own, the same SeriesNumber in all
(dcm2niix #495: "these are technically not valid DICOM images"), and a de-identification that
rewrites the UID per file does the same to any series (medInria PR #156). Each such "series"
then holds the images of one slice position: ``inspect`` listed N series of one slice with
exit 0 and ``convert`` wrote N one-slice volumes, unsaid. Which slices belong together is a
guess radpipe does not make (dcm2niix does not merge them either); it says so instead, on each
of them (:func:`split_series_notes`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from pipeline.dicom.header import Instance

__all__ = ["split_series_notes"]

#: Positions within this (mm) are one slice position.
_SAME_PLACE = 0.01


def split_series_notes(series: Iterable[tuple[str, list[Instance]]]) -> dict[str, str]:
    """``{series_uid: note}`` for the series that look like slices of one acquisition.

    ``series``: each series' UID and instances. Two or more series of one patient and study,
    with one SeriesNumber, modality, orientation, image size and pixel spacing, each of whose
    images lie at one slice position, at positions that all differ (along their common
    normal), are noted; a series of single images without position or SeriesNumber never is.
    """
    groups: dict[tuple[object, ...], list[tuple[str, float]]] = defaultdict(list)
    for uid, members in series:
        one = _one_place(members)
        if one is not None:
            groups[one[0]].append((uid, one[1]))
    notes: dict[str, str] = {}
    for key, found in groups.items():
        places = sorted(d for _, d in found)
        if len(found) < 2 or min(np.diff(places)) <= _SAME_PLACE:
            continue
        note = (
            f"split across SeriesInstanceUIDs: one of {len(found)} series of SeriesNumber "
            f"{key[2]} in this study ({key[3]}, one orientation), each holding one slice "
            f"position ({places[-1] - places[0]:.4g} mm from first to last): the slices of one "
            "acquisition under UIDs of their own (Canon classic exports, dcm2niix #495, or a "
            "de-identification rewriting UIDs per file), written as a series each, not stacked "
            "into one volume (a series has one SeriesInstanceUID, PS3.3 C.7.3.1)"
        )
        notes.update((uid, note) for uid, _ in found)
    return notes


def _one_place(members: list[Instance]) -> tuple[tuple[object, ...], float] | None:
    """The grouping key and the position along the normal of a series at one position.

    ``None`` unless all of the series' frames lie at one slice position.
    """
    refs = [r for m in members for r in m.frame_refs]
    if not refs or refs[0].series_number is None or refs[0].orientation is None:
        return None
    first, orientation = refs[0], refs[0].orientation
    normal = np.cross(orientation[:3], orientation[3:])
    for r in refs:
        same = (r.series_number, r.orientation, r.rows, r.columns, r.pixel_spacing) == (
            first.series_number, first.orientation, first.rows, first.columns,
            first.pixel_spacing,
        )  # fmt: skip
        if not same or r.position is None or first.position is None:
            return None
        if float(np.linalg.norm(np.subtract(r.position, first.position))) > _SAME_PLACE:
            return None
    m = members[0]
    key = (m.patient_id, m.study_uid, first.series_number, m.modality.upper(),
           tuple(round(v, 4) for v in orientation), first.rows, first.columns,
           first.pixel_spacing)  # fmt: skip
    return key, float(np.dot(first.position, normal))  # type: ignore[arg-type]
