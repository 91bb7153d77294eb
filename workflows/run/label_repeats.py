"""A DICOM run's labels CSV: a series (or file) listed twice, checked before a run directory.

A labels CSV keyed by ``series_uid``/``series_key`` that gives one series two labels was
refused only once the run directory had been made (``labels.csv line 18: series_uid listed
again with another label``, exit 1, the directory left behind); one keyed by ``file`` that
gives one file two labels likewise. :func:`conflicting_dicom_labels` finds both with the
other input checks, before anything is made, naming the lines and the values (class labels
and split names; no UID). A row repeated as it is (every cell the same; the file spelled
another way counts as the same) was used once without a word, while an image list's
repeated row is warned about: it is now warned about too, once, with its lines. Rows that
differ in a column the run does not read (a per-instance table's ``sop_instance_uid``) are
not repeats: one series has many instances.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from pathlib import Path

from pipeline.cells import CsvRow, csv_label, csv_rows, csv_text, csv_uid, name_lines
from pipeline.words import counted
from workflows.run.image_files import dicom_file

__all__ = ["conflicting_dicom_labels"]

log = logging.getLogger("radpipe")
_SHOWN = 5


def conflicting_dicom_labels(
    labels: Path, columns: list[str], source: Path | None, agree: tuple[str, ...]
) -> list[str]:
    """Problems of series (or files) the labels CSV lists again with another value.

    Parameters
    ----------
    labels, columns
        ``data.labels`` and its column names.
    source
        ``data.source``: a ``file`` cell is found below it, else below the CSV's folder, so
        two spellings of one file (``a/1.dcm``, ``./a/1.dcm``) are one file.
    agree
        The columns one series must have one value of: ``data.label_column``,
        ``class_name``, ``split.column`` (those that are columns of the CSV are compared).

    Returns
    -------
    list of str
        E.g. ``data.labels: 1 series of labels.csv listed again with another label (only
        one can be its truth): the series_uid of line 2 (lines 2, 18: '0' then '1')``;
        empty when none. Rows repeated as they are get one warning in the log.
    """
    column = next((c for c in ("series_key", "series_uid") if c in columns), "")
    column = column or ("file" if "file" in columns else "")
    if not column:
        return []
    groups: dict[str, list[CsvRow]] = defaultdict(list)
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        cell = (row.get(column) or "").strip()
        try:
            key = dicom_file(cell, source, labels) if column == "file" else csv_uid(cell, column)
        except ValueError:
            continue  # the reading of the CSV names the line
        if key:
            groups[key].append(row)
    what = "file" if column == "file" else "series"
    conflicts, repeats = [], []
    for rows in groups.values():
        if len(rows) < 2:
            continue
        where = rows[0][column].strip() if column == "file" else (
            f"the {column} of line {rows[0].line}")  # fmt: skip
        lines = name_lines([r.line for r in rows])
        differ = next((c for c in agree if c in columns and
                       len({csv_label(r.get(c)) for r in rows}) > 1), "")  # fmt: skip
        if differ:
            shown = " then ".join(repr(v) for v in dict.fromkeys(csv_label(r.get(differ))
                                                                  for r in rows))  # fmt: skip
            conflicts.append((differ, f"{where} ({lines}: {shown})"))
        elif len({_cells(r, column) for r in rows}) == 1:
            repeats.append(f"{where} ({lines})")
    if repeats:
        more = f"; and {len(repeats) - _SHOWN} more" if len(repeats) > _SHOWN else ""
        log.warning("%s repeats the rows of %s as they are (the same values): each used once: %s%s",
                    labels.name, counted(len(repeats), what), "; ".join(repeats[:_SHOWN]),
                    more)  # fmt: skip
    return _said(labels, what, conflicts)


def _cells(row: CsvRow, column: str) -> tuple[tuple[str, str], ...]:
    """The row's cells but ``column`` (the key, compared as the file or UID it names), each
    as a label is read (``" 1.0 "`` is ``1``)."""
    return tuple((c, csv_label(v)) for c, v in row.items() if c != column and c is not None
                 and isinstance(v, str | None))  # fmt: skip


def _said(labels: Path, what: str, conflicts: list[tuple[str, str]]) -> list[str]:
    """One problem per column the repeats disagree on."""
    by_column: dict[str, list[str]] = defaultdict(list)
    for column, item in conflicts:
        by_column[column].append(item)
    out = []
    for column, items in by_column.items():
        more = f"; and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
        out.append(
            f"data.labels: {counted(len(items), what)} of {labels.name} listed again with "
            f"another {column} (only one can be its truth): {'; '.join(items[:_SHOWN])}{more}"
        )
    return out
