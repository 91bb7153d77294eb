"""The rows of a run's labels and masks CSVs, checked before a run directory is made.

A labels or masks CSV with a header line and no rows, a masks CSV ``frame`` cell that is no
frame number (``-1``, ``first``, ``nan``) or ``mask`` cell that is empty, and ``split.folds``
above the number of patients the CSVs can hold need no converted data, only the CSVs' rows.
Until 2026-12-03 they were found once the run directory was made and the source converted,
and refused with exit 1 (a header-only CSV as "no series of the data has a label", or "no
mask row for 24 of the 24 converted images") instead of exit 2 before any work.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.cells import CsvRow, csv_frame, csv_label, csv_rows, csv_text, csv_uid, name_lines
from pipeline.words import counted
from workflows.run.config import RunConfig
from workflows.run.dicom_patients import dicom_split_problems
from workflows.run.mask_cover import picture_mask_problems, uncovered_images
from workflows.run.nifti_first import nifti_mask_problems
from workflows.run.paths import said
from workflows.run.split_rows import split_problems

__all__ = ["table_problems"]

_SHOWN = 5
#: The last frame number of the largest image DICOM can hold (Number of Frames is an IS,
#: at most 2**31 - 1).
MAX_FRAME = 2**31 - 2


def table_problems(
    config: RunConfig, columns: dict[str, list[str]], *, split: bool = True
) -> list[str]:
    """The problems of the rows of ``data.labels`` and ``data.masks`` (``columns``: the
    header of each CSV that could be read, by key ``labels``/``masks``); ``split``: also
    whether the patients fill the split (:mod:`workflows.run.split_rows`,
    :mod:`workflows.run.dicom_patients`), left out when other inputs are already wrong.

    Returns
    -------
    list of str
        E.g. ``data.masks: masks.csv has a header line but no rows``, ``data.masks:
        masks.csv line 3: frame '-1' is not a frame number (0, 1, 2, ...)``.
    """
    d = config.data
    problems: list[str] = []
    read: dict[str, list[CsvRow]] = {}  # each CSV read once
    rows: dict[str, int] = {}
    for key in columns:
        path: Path = getattr(d, key)
        read[key] = list(csv_rows(csv.DictReader(csv_text(path))))
        rows[key] = len(read[key])
        if not read[key]:
            problems.append(f"data.{key}: {said(path)} has a header line but no rows")
    if d.kind == "dicom":
        problems += _empty_keys(config, read)
    if d.kind == "dicom" and "masks" in columns:
        problems += _bad_cells(d.masks, read["masks"])  # type: ignore[arg-type]
    seg = config.task == "segmentation" and "masks" in columns
    if d.kind == "dicom" and seg and not problems and d.source.is_dir():
        labelled = _labelled_series(read.get("labels", []), d.label_column)
        problems += uncovered_images(d.masks, read["masks"], d.source, labelled)  # type: ignore[arg-type]
    if d.kind == "dicom" and seg and not problems:
        problems += picture_mask_problems(d.masks, read["masks"], d)  # type: ignore[arg-type]
    if d.kind == "dicom" and seg and not problems and d.source.is_dir():
        problems += nifti_mask_problems(d.masks, read["masks"], d)  # type: ignore[arg-type]
    if split and not problems:  # patients against the split: once the rows are right
        problems += split_problems(config, read.get("labels", []))
    folds = config.split.folds
    # each row names one image, series, study or patient: rows >= patients
    counted_in = "masks" if config.task == "segmentation" and d.kind == "dicom" else "labels"
    if folds and rows.get(counted_in) and d.kind == "dicom":  # images: split_problems
        most = rows[counted_in] - (1 if config.split.test > 0 and not config.split.column else 0)
        if folds > most:
            held = ", one or more held out for split.test" if most < rows[counted_in] else ""
            problems.append(
                f"split.folds {folds} is more than the {counted(most, 'patient')} that "
                f"{said(getattr(d, counted_in))} can hold at most "
                f"({counted(rows[counted_in], 'row')}{held}): every fold needs a patient of "
                "its own; lower split.folds"
            )
    if d.kind == "dicom" and split and not problems:  # the rows hold patients enough: count
        problems += dicom_split_problems(config, read.get("labels", []))
    return problems


def _bad_cells(masks: Path, read: list[CsvRow]) -> list[str]:
    """Empty ``mask`` cells and ``frame`` cells that are no frame number of a DICOM masks
    CSV (its rows ``read``), by line (a row naming a DICOM SEG, whose frame cell is not
    read, aside)."""
    from pipeline.data.io import csv_path
    from pipeline.dicom.seg_masks import is_dicom_file

    bad: dict[str, list[int]] = {}
    for row in read:
        if "mask" in row and not (row.get("mask") or "").strip():
            bad.setdefault("the mask cell is empty", []).append(row.line)
        try:
            if csv_frame(row.get("frame")) > MAX_FRAME:
                raise ValueError(f"frame {row['frame'].strip()!r} is past any image's frames "
                                 f"(DICOM counts at most {MAX_FRAME + 1})")  # fmt: skip
        except ValueError as err:
            mask = (row.get("mask") or "").strip()
            if mask and is_dicom_file(csv_path(masks.parent, mask)):
                continue
            bad.setdefault(str(err), []).append(row.line)
    return [
        f"data.masks: {said(masks)} {name_lines(lines, _SHOWN)}: {why}"
        for why, lines in list(bad.items())[:_SHOWN]
    ]


#: The columns that key a DICOM run's labels and masks rows, as the run reads them (the first
#: that is a column of the CSV).
_KEYS = {"labels": ("series_key", "series_uid"), "masks": ("instance_key", "sop_instance_uid")}


def _empty_keys(config: RunConfig, read: dict[str, list[CsvRow]]) -> list[str]:
    """Rows of a DICOM run's labels or masks CSV whose key cell (``series_uid``,
    ``sop_instance_uid``, ...) is empty, by line: the run refused the first once its run
    directory was made (exit 1). A CSV keyed by ``file`` is resolved otherwise; a masks row
    naming a DICOM SEG needs no instance."""
    problems = []
    for key, rows in read.items():
        column = next((c for c in _KEYS[key] if rows and c in rows[0]), None)
        if column is None or "file" in rows[0]:
            continue
        empty = []
        for row in rows:
            try:
                blank = not csv_uid(row.get(column), column)
            except ValueError:
                continue  # a number in scientific notation: the run names it
            if blank and not (key == "masks" and _names_seg(config, row)):
                empty.append(row.line)
        if empty:
            path: Path = getattr(config.data, key)
            problems.append(f"data.{key}: {said(path)} {name_lines(empty, _SHOWN)}: the "
                            f"{column} cell is empty; fill it in or delete the row")  # fmt: skip
    return problems


def _names_seg(config: RunConfig, row: CsvRow) -> bool:
    from pipeline.data.io import csv_path
    from pipeline.dicom.seg_masks import is_dicom_file

    mask = (row.get("mask") or "").strip()
    return bool(mask) and is_dicom_file(csv_path(config.data.masks.parent, mask))  # type: ignore[union-attr]


def _labelled_series(rows: list[CsvRow], column: str) -> set[str]:
    """The hashed keys of the series a labels CSV keyed by ``series_uid`` labels."""
    from pipeline.keys import hash_keys

    if not rows or "series_uid" not in rows[0] or "file" in rows[0]:
        return set()
    uids = []
    for row in rows:
        try:
            uid = csv_uid(row.get("series_uid"), "series_uid")
        except ValueError:
            continue
        if uid and csv_label(row.get(column)) != "":
            uids.append(uid)
    return set(hash_keys(uids))
