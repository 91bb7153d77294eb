"""Cells a labels CSV must fill: a series' UID, a class index; refused naming the line.

The readers of a labels CSV in research code (:func:`pipeline.split.rows_from_labels_csv`
for a split, :func:`pipeline.data.io.read_labels_csv` for a dataset's labels) take these
cells through here, so the same file is read, and refused, alike by both.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.cells import csv_label, csv_uid
from pipeline.errors import RadpipeError

__all__ = ["csv_class_index", "csv_uid_cell"]


def csv_uid_cell(row: Mapping[str, str | None], column: str, where: str) -> str:
    """``row[column]`` as :func:`csv_uid` reads it; refused when empty.

    Raises
    ------
    RadpipeError
        Naming ``where`` (the CSV and its line): an empty cell, or a spreadsheet's scientific
        notation.
    """
    try:
        uid = csv_uid(row.get(column), column)
    except ValueError as err:
        raise RadpipeError(f"{where}: {err}.") from None
    if not uid:
        raise RadpipeError(f"{where}: the {column} cell is empty.")
    return uid


def csv_class_index(text: str | None, where: str, *, required: bool = False) -> int | None:
    """A label cell as a class index (:func:`csv_label`: ``1.0`` is ``1``); empty: ``None``.

    Raises
    ------
    RadpipeError
        The cell is no whole number (a class name, ``1.5``), or empty with ``required``,
        naming ``where`` (the CSV and its line) and the cell.

    Examples
    --------
    >>> csv_class_index(" 1.0 ", "labels.csv line 2"), csv_class_index("", "labels.csv line 3")
    (1, None)
    >>> csv_class_index("benign", "labels.csv line 4")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pipeline.errors.RadpipeError: labels.csv line 4: label 'benign' is not a class index ...
    """
    label = csv_label(text)
    if (required or label) and not label.lstrip("+-").isdigit():
        raise RadpipeError(f"{where}: label {text or ''!r} is not a class index (0, 1, ...).")
    return int(label) if label else None
