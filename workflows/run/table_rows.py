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

from pipeline.cells import CsvRow, csv_frame, csv_rows, csv_text, name_lines
from pipeline.words import counted
from workflows.run.config import RunConfig
from workflows.run.paths import said

__all__ = ["table_problems"]

_SHOWN = 5
#: The last frame number of the largest image DICOM can hold (Number of Frames is an IS,
#: at most 2**31 - 1).
MAX_FRAME = 2**31 - 2


def table_problems(config: RunConfig, columns: dict[str, list[str]]) -> list[str]:
    """The problems of the rows of ``data.labels`` and ``data.masks`` (``columns``: the
    header of each CSV that could be read, by key ``labels``/``masks``).

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
    if d.kind == "dicom" and "masks" in columns:
        problems += _bad_cells(d.masks, read["masks"])  # type: ignore[arg-type]
    folds = config.split.folds
    # each row names one image, series, study or patient: rows >= patients
    counted_in = "masks" if config.task == "segmentation" and d.kind == "dicom" else "labels"
    if folds and rows.get(counted_in):
        most = rows[counted_in] - (1 if config.split.test > 0 and not config.split.column else 0)
        if folds > most:
            held = ", one or more held out for split.test" if most < rows[counted_in] else ""
            problems.append(
                f"split.folds {folds} is more than the {counted(most, 'patient')} that "
                f"{said(getattr(d, counted_in))} can hold at most "
                f"({counted(rows[counted_in], 'row')}{held}): every fold needs a patient of "
                "its own; lower split.folds"
            )
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
