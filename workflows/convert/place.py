"""Per instance, after every file is converted: each series' rows placed, and what holds of
the series as a whole said in them.

:func:`place_series` assembles one series from the store's header facts (nothing is
resampled per instance) and writes each row's ``volume``, ``slice_index`` and the series'
problems. :func:`rescale_note`: a PNG written without a window spans its own image's stored
range (``radpipe convert``'s PNG mapping: the ends of the BitsStored range through the
image's rescale), so where the images of one series have different RescaleSlope /
RescaleIntercept (PET and Philips MR rescale each slice to fill the 16 bits; dcm2niix #978,
Siemens tau PET slopes from 7.6e-9 to 3.1e-8 slice to slice) one value is a different grey
in each PNG: the same activity 1000 Bq/ml was 2000 in one slice's 16-bit PNG and 500 in the
next, and a model trained on them learnt slice banding. NPY and NIfTI hold the modality
values and are not concerned; a PNG with a window maps modality values and is not either.
Now each PNG row without a window of such a volume says so (the mapping is unchanged: outputs are
written by the time the series is known).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from pipeline.dicom.assemble import GeometryPolicy
from pipeline.dicom.files import escape_name
from pipeline.dicom.frames import HALF_RESCALE as HALF
from pipeline.dicom.frames import FrameRef
from pipeline.dicom.index import series_rows, sort_series
from pipeline.dicom.notes import add_notes
from workflows.convert.collect import PLACED_COLUMNS, placed, placement
from workflows.convert.store import Store

__all__ = ["place_series", "rescale_note"]


def rescale_note(refs: Iterable[FrameRef]) -> str:
    """What PNGs without a window of these frames get when their rescales differ, else ""."""
    found = {ref.rescale for ref in refs if not ref.colour and ref.rescale not in (None, HALF)}
    if len(found) < 2:
        return ""
    slopes, intercepts = sorted({s for s, _ in found}), sorted({i for _, i in found})
    return (
        "PNG greys not comparable between images: RescaleSlope/RescaleIntercept "
        f"(0028,1053)/(0028,1052) differ in this volume (slope {slopes[0]:g} to "
        f"{slopes[-1]:g}, intercept {intercepts[0]:g} to {intercepts[-1]:g}) and a PNG "
        "without a window spans its own image's stored range, so one value is a different "
        "grey from image to image (slice banding, dcm2niix #978): NPY or NIfTI hold the "
        "values, or give a fixed window (--window C,W)"
    )


def _volume_notes(series: Any) -> dict[str, str]:
    """:func:`rescale_note` of each volume of ``series`` (by its ``volume`` cell), and of
    the whole series for rows in no volume (``""``)."""
    refs = [ref for inst in series.instances for ref in inst.frame_refs]
    notes = {"": rescale_note(refs)}
    plan = series.plan
    for v, volume in enumerate(plan.volumes if plan is not None else []):
        notes[str(v)] = rescale_note(plan.frames[i] for frames in volume.frames for i in frames)
    return notes


def _unwindowed(rows: list[dict[str, str]], notes: dict[str, str]) -> list[dict[str, str]]:
    """Each row written without a window gets its volume's note (:func:`_volume_notes`)."""
    out = []
    for row in rows:
        note = notes.get(row.get("volume") or "", "") if row.get("window") == "none" else ""
        if note:
            row = {**row, "problems": add_notes(row["problems"], [note])}
        out.append(row)
    return out


def place_series(
    store: Store, uid: str, policy: GeometryPolicy, index: bool, split: str | None, png: bool
) -> None:
    """Assemble one series from the store and place its rows (only it is in memory);
    ``png``: the rows are PNGs (:func:`rescale_note`)."""
    series = sort_series(uid, store.instances_of(uid), policy)
    series.problems += [split] if split else []
    place, notes = placement(series)
    names = list(dict.fromkeys(escape_name(inst.path) for inst in series.instances))
    change: Any = partial(placed, place=place, notes=notes)
    notes_of = _volume_notes(series) if png else {}
    if any(notes_of.values()):
        first = change
        change = lambda rows: _unwindowed(first(rows), notes_of)  # noqa: E731
    store.update_rows_of(names, change, (*PLACED_COLUMNS, "window") if png else PLACED_COLUMNS)
    if index:  # kept for index.csv
        first_inst = series.first
        store.add_series(uid, first_inst.patient_id, first_inst.study_uid, series_rows(series))
