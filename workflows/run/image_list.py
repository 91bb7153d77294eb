"""The image list of a ``data.kind: images`` run (``data.labels``): each image once.

The run keys an image by its path as the CSV writes it, so a list naming one image twice kept
the last row's ``patient_id`` and ``mask`` unsaid (the patient-level split then grouped the
image under whichever patient came last) and counted one file spelled two ways
(``a.png``, ``./a.png``) as two images. :func:`read_image_list` refuses an image listed
twice with different values in a column the run reads, naming both lines and the columns,
and keeps one of two rows that agree, with a warning naming both lines.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PureWindowsPath
from typing import Any

from pipeline.cells import CsvRow, csv_key, csv_label, csv_rows, csv_text, name_lines
from pipeline.data.io import csv_path
from pipeline.errors import RadpipeError
from workflows.run.paths import relative_or_name

__all__ = [
    "image_file",
    "list_rows",
    "masks_unused",
    "name_case_files",
    "note_unnamed_patients",
    "read_image_list",
]

log = logging.getLogger("radpipe")

#: Columns whose values are patient data: their differing values are never shown.
_PRIVATE = frozenset({"patient_id"})


def read_image_list(
    path: Path, root: Path, columns: Sequence[str], shown: str | None = None
) -> list[CsvRow]:
    """The rows of an image list CSV, each image once, in file order.

    Parameters
    ----------
    path
        The CSV (``image`` column, paths relative to ``root``).
    root
        ``data.source``: the folder the paths are relative to.
    columns
        The other columns the run reads (``patient_id``, the label column, ``mask``, the
        split column); a column the CSV lacks is left out. Identifiers are compared as
        :func:`~pipeline.cells.csv_key` reads them, labels as
        :func:`~pipeline.cells.csv_label`, mask paths as the files they name.
    shown
        How messages name the CSV (default: its file name).

    Returns
    -------
    list of CsvRow
        The rows; of two rows that name one file (also spelled two ways) with the same
        values, the first, with a warning naming both lines.

    Raises
    ------
    RadpipeError
        No ``image`` column; a row's image cell is empty; or one file listed on two lines
        with different values (both lines and the columns named; ``patient_id`` values are
        not shown).
    """
    name = shown or path.name
    reader = csv.DictReader(csv_text(path))
    rows = list(csv_rows(reader))
    if not rows or "image" not in (reader.fieldnames or []):
        raise RadpipeError(f"{name}: needs an 'image' column.")
    read = [c for c in dict.fromkeys(columns) if c in rows[0] and c != "image"]
    first: dict[str, CsvRow] = {}
    kept = []
    for row in rows:
        if not (row["image"] or "").strip():
            raise RadpipeError(f"{name} line {row.line}: the image cell is empty; fill it in "
                               "or delete the row.")  # fmt: skip
        for column in ("image", "mask"):  # `a.png, 0`: spaces around a path, as the checks
            if row.get(column):  # read it (a run stopped with a traceback on the raw path)
                row[column] = row[column].strip()
        where = image_file(root, row["image"])
        if where not in first:
            first[where] = row
            kept.append(row)
            continue
        was = first[where]
        differ = [c for c in read if _value(root, c, was.get(c)) != _value(root, c, row.get(c))]
        both = f"{name} lines {was.line} and {row.line}"
        spelled = (f"{was['image']!r}" if was["image"] == row["image"]
                   else f"one file ({was['image']!r}, {row['image']!r})")  # fmt: skip
        if differ:
            raise RadpipeError(
                f"{both} list {spelled} with different {_shown(differ, was, row)}: which is "
                "right is unknown; keep one row (or fix the path) and run again."
            )
        log.warning("%s list %s twice with the same values: used once (line %d).", both,
                    spelled, was.line)  # fmt: skip
    return kept


def masks_unused(rows: list[CsvRow], task: str, name: str) -> list[CsvRow]:
    """``rows`` of an images list without their ``mask`` cells when ``task`` is a
    classification, said once (``name``: the list); as they are otherwise.

    A classification trains on ``label``: its batches carried the masks too, and the run
    stopped once training began ("The model outputs one score per class (4, 2), but the
    batch has masks (4, 16, 16)", exit 1).
    """
    if task != "classification" or not any(r.get("mask") for r in rows):
        return rows
    log.warning("%s: its 'mask' column is not used: task 'classification' learns the "
                "'label' column (set task: segmentation to learn the masks)", name)  # fmt: skip
    for row in rows:
        row.pop("mask", None)
    return rows


def note_unnamed_patients(rows: list[CsvRow], name: str) -> list[CsvRow]:
    """``rows`` as they are; when the list has a ``patient_id`` column and some of its cells
    are empty, a warning naming their lines: each such image is a patient of its own in the
    split, so the images of one patient can be in two parts (it was unsaid; a DICOM series
    without a PatientID is warned about alike)."""
    if not rows or "patient_id" not in rows[0]:
        return rows
    empty = [r.line for r in rows if not csv_key(r.get("patient_id"))]
    if empty and len(empty) < len(rows):
        log.warning(
            "%s: %d of %d images have an empty patient_id (%s): each is taken for a patient "
            "of its own in the split, so one patient's images can be in two of its parts; "
            "fill in their patient_id", name, len(empty), len(rows), name_lines(empty),
        )  # fmt: skip
    elif empty:
        log.warning("%s: every patient_id is empty: each image is taken for a patient of its "
                    "own in the split", name)  # fmt: skip
    return rows


def list_rows(rows: list[CsvRow], task: str, name: str) -> list[CsvRow]:
    """An images run's list ``rows`` as the run uses them: :func:`masks_unused`, then
    :func:`note_unnamed_patients`."""
    return note_unnamed_patients(masks_unused(rows, task, name), name)


def image_file(root: Path, image: str) -> str:
    """The file an image cell names, as one string for every spelling of it."""
    return os.path.normpath(csv_path(root, image))


def _value(root: Path, column: str, cell: str | None) -> str:
    if column == "patient_id":
        return csv_key(cell)
    if column == "mask":
        return image_file(root, cell) if cell and cell.strip() else ""
    return csv_label(cell)


def _shown(columns: list[str], a: CsvRow, b: CsvRow) -> str:
    """``label ('0' then '1'), patient_id``: the columns that differ, with their values
    except for patient data."""
    return ", ".join(
        c
        if c in _PRIVATE
        else f"{c} ({(a.get(c) or '').strip()!r} then {(b.get(c) or '').strip()!r})"
        for c in columns
    )


def case_files(meta: Sequence[Mapping[str, Any]], root: Path) -> dict[str, str]:
    """Each sample's ``id`` to its image as the list CSV writes it: ``meta`` holds the
    samples' ``id`` and ``source`` (the CSV cell). A cell written as an absolute path is given
    relative to ``root`` (``data.source``), never absolute; control characters are escaped."""
    from pipeline.dicom.files import escape_name

    files: dict[str, str] = {}
    for m in meta:
        cell = str(m.get("source") or "")
        if cell and m.get("id") is not None:
            files[str(m["id"])] = escape_name(_relative_cell(cell, root))
    return files


def name_case_files(metrics: dict[str, Any], meta: Sequence[Mapping[str, Any]], root: Path) -> None:
    """Give each ``per_case`` (and ``per_slice``, ``most_confident_mistakes`` and
    ``explanations.cases``) row of an images run's ``metrics`` its ``file`` (:func:`case_files`),
    beside its hashed ``id``, which no user can find in their list; the saliency check's case
    too."""
    files = case_files(meta, root)
    explained = metrics.get("explanations") or {}
    for rows in (*(metrics.get(k) or [] for k in _CASE_ROWS), explained.get("cases") or []):
        for row in rows:
            if str(row.get("id")) in files:
                row["file"] = files[str(row["id"])]
    check = explained.get("sanity_check") or {}
    if str(check.get("case")) in files:  # the report's saliency check names the case by it
        check["file"] = files[str(check["case"])]


#: ``metrics.json`` lists whose rows are cases named by ``id``.
_CASE_ROWS = ("per_case", "per_slice", "most_confident_mistakes")


def _relative_cell(cell: str, root: Path) -> str:
    """``cell`` unchanged when relative; an absolute one relative to ``root`` (its name alone
    should it lie outside, as ``data.allow_outside_paths`` permits)."""
    if not Path(cell).is_absolute() and not PureWindowsPath(cell).is_absolute():
        return cell
    return relative_or_name(csv_path(root, cell), root)
