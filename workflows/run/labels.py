"""Class labels of a run: ``data.label_column``, class names, and series without labels.

A labels CSV names each series (``series_uid`` or ``series_key``; for ``data.kind: images``,
each ``image``) and gives its class in ``data.label_column`` (default ``label``), either as
a class index (``0``, ``1``, ...) or as a class name (``round_lesion``).

The order of the classes, that is which index each class gets, is decided once and stored
in the run directory (``classes.json``); a resumed run and ``radpipe predict`` read it back:

1. ``data.class_names`` when set: a value is one of those names, or an index into them;
2. else, when every value is an integer: the integers are the indices; names come from a
   ``class_name`` column when there is one (else ``"0"``, ``"1"``, ...);
3. else (class names in the CSV): the distinct names sorted alphabetically (Unicode code
   point order), so ``benign, malignant`` are 0 and 1 whatever the row order.

Series without a label follow ``data.missing_labels`` (``error`` stops the run, ``warn``, the
default, leaves them out and says how many, ``drop`` quietly); label rows naming series not in
the converted data are always counted and reported, both in ``provenance.json`` (``labels``).
"""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.cells import (
    CsvRow,
    csv_label,
    csv_rows,
    csv_uid,
    name_lines,
    refuse_spreadsheet_numbers,
)
from pipeline.data.io import csv_text
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from pipeline.keys import hash_key
from pipeline.names import name_keys
from pipeline.words import are, counted
from workflows.run.class_names import check_index_range, check_named, check_number_like
from workflows.run.class_names import is_int as _is_int
from workflows.run.missing_files import class_case_hint
from workflows.run.truth_rows import FILE_COLUMN, LINE_COLUMN, name_rows, user_lines

__all__ = [
    "CLASSES_FILE", "LabelTable", "apply_missing_policy", "class_index", "note_rare_classes",
    "read_key_column", "read_label_table", "read_rows", "spreadsheet_safe", "store_classes",
    "stored_class_names",
]  # fmt: skip

log = logging.getLogger("radpipe")

CLASSES_FILE = "classes.json"
_SHOWN = 5  # keys named in a message; the rest are counted


@dataclass
class LabelTable:
    """Labels as class indices, keyed by series key (or image key), and the class names."""

    by_key: dict[str, int]
    class_names: list[str]
    source: str  # "labels.csv column 'label'" (file name only, no local path)
    summary: dict[str, Any] = field(default_factory=dict)
    key_column: str = ""  # the CSV's column naming the series (image): "series_uid", ...
    lines: dict[str, int] = field(default_factory=dict)  # key -> the CSV line that first gives it
    path: Path | None = None  # the CSV read, for a second look at rows that matched nothing
    name: str = ""  # how messages name it (the user's file name)
    files: dict[str, str] = field(default_factory=dict)  # key -> file, resolved from `file`


def read_label_table(
    path: Path,
    *,
    column: str = "label",
    key: str = "series",
    class_names: list[str] | None = None,
    stored: Path | None = None,
    shown: str | None = None,
) -> LabelTable:
    """Read a labels CSV into class indices.

    Parameters
    ----------
    path
        The CSV. ``key="series"``: a ``series_uid`` (hashed here) or ``series_key`` column;
        ``key="image"``: an ``image`` column (hashed, as image ids are).
    column
        The label column (``data.label_column``).
    class_names
        ``data.class_names``: the classes in index order, when given.
    stored
        A run's ``classes.json``: when it exists its order is used (a resumed run).

    Raises
    ------
    RadpipeError
        The file or a column is missing, a value is not a known class, a key repeats with
        different labels, or integer and text labels are mixed.
    """
    name = shown or path.name  # the CSV the user gave (not radpipe's resolved copy)
    rows, columns = read_rows(path)
    if column not in columns:
        raise RadpipeError(
            f"{name}: no label column {column!r} (data.label_column); "
            f"columns: {', '.join(columns)}."
        )
    raw, lines = _raw_labels(name, rows, column, key)
    if stored is not None and stored.is_file():
        class_names = list(json.loads(stored.read_text())["class_names"])
    names, index = class_index(name, rows, column, class_names)
    by_key = {k: index[v] for k, v in raw.items() if v != ""}
    key_column = next((c for c in ("image", "series_key", "series_uid") if c in columns), "")
    files = {
        r["series_key"]: r[FILE_COLUMN] for r in rows if r.get(LINE_COLUMN) and r.get(FILE_COLUMN)
    }
    return LabelTable(by_key, names, f"{name} column {column!r}", key_column=key_column,
                      lines=lines, path=path, name=name, files=files)  # fmt: skip


def apply_missing_policy(
    table: LabelTable | None, data_keys: list[str], policy: str, what: str = "series",
    sources: Mapping[str, str] | None = None,
) -> list[str]:  # fmt: skip
    """The keys of ``data_keys`` that have a label, after applying ``data.missing_labels``.

    Records ``table.summary`` (counts only) and logs what was left out, named by ``sources``
    (``{key: a file of it}``, :func:`pipeline.names.name_keys`). Without a labels table
    every key is kept (segmentation without labels).

    Raises
    ------
    RadpipeError
        ``policy == "error"`` and some keys have no label, or no key has one.
    """
    if table is None:
        return list(data_keys)
    missing = [k for k in data_keys if k not in table.by_key]
    kept = [k for k in data_keys if k in table.by_key]
    unmatched = sorted(set(table.by_key) - set(data_keys))
    table.summary = {
        "source": table.source,
        what: len(data_keys),
        "labelled": len(kept),
        "without_label": len(missing),
        "label_rows_not_in_data": len(unmatched),
        "missing_labels": policy,
        "class_names": table.class_names,
    }
    named = name_keys(missing, sources or {}, "series" if what == "series" else "", _SHOWN)
    if missing and policy == "error":
        raise RadpipeError(
            f"{len(missing)} of {len(data_keys)} {what} have no label in {table.source} "
            f"({named}); label them, or set data.missing_labels "
            "to 'warn' or 'drop' to leave them out."
        )
    if missing:
        level = logging.WARNING if policy == "warn" else logging.INFO
        log.log(level,
            "%d of %d %s have no label in %s and are left out (data.missing_labels: %s): %s",
            len(missing), len(data_keys), what, table.source, policy, named,
        )  # fmt: skip
    if unmatched and table.path is not None and all(k in table.lines for k in unmatched):
        refuse_spreadsheet_numbers(table.path, [table.lines[k] for k in unmatched], table.name)
    if unmatched:
        log.warning(
            "%s of %s %s %s that are not in the converted data, so their labels are not used "
            "(%s)", counted(len(unmatched), "label row"), table.source, are(len(unmatched),
            "names", "name"), what, _rows_named(table, unmatched),
        )  # fmt: skip
    if not kept:
        raise RadpipeError(f"No {what} of the data has a label in {table.source}."
                           + _NONE_MATCHED.get(table.key_column, ""))  # fmt: skip
    return kept


def _rows_named(table: LabelTable, keys: list[str]) -> str:
    """``"lines 3, 8 and 2 more"`` (``lines 3 (a/b.dcm), ...`` keyed by ``file``); by hashed
    key (``"e.g. <key>, ..."``) only when the user's lines are unknown."""
    if not all(k in table.lines for k in keys):
        return "e.g. " + ", ".join(keys[:_SHOWN])
    if all(k in table.files for k in keys):
        return name_rows([(table.lines[k], table.files[k]) for k in keys], _SHOWN)
    return name_lines([table.lines[k] for k in keys], _SHOWN)


#: Why no row of a labels CSV may have matched, by the column that names the series.
_NONE_MATCHED = {
    "series_uid": " Are its series_uid values these files' SeriesInstanceUID (not their "
    "StudyInstanceUID or SOPInstanceUID)?",
    "series_key": " Its series_key values are keys of a project secret: keys written "
    "with another secret (RADPIPE_SECRET_FILE, another machine's ~/.config/radpipe/secret) "
    "match nothing here; give series_uid or file instead.",
}


def note_rare_classes(split: list[dict[str, Any]], table: LabelTable | None, config: Any) -> None:
    """Warn about each class with fewer labelled series than the split has parts (train,
    validation, test; or the folds and the test split): it cannot be in each, so the model is
    trained, stopped or scored without it. A class of one or two series is often a typo in the
    labels CSV (``begnin``), which would otherwise silently become a class of its own; so are
    labels that differ only in letter case or spacing (``Benign``, ``benign``): also warned.

    ``split`` holds the split rows (``label``: class index), ``config`` the ``SplitConfig``.
    """
    if table is None:
        return
    parts = (config.folds or 1 + (config.val > 0)) + (config.test > 0)
    counts = Counter(int(r["label"]) for r in split)
    unit = "images" if table.key_column == "image" else "series"  # data.kind: images
    for index, name in enumerate(table.class_names):
        if counts[index] == 0:  # e.g. an external test set without that class
            log.warning("class %r has no labelled %s (of %d) in %s: its rates and curves are "
                        "undefined here.", name, unit, len(split), table.source)  # fmt: skip
        elif counts[index] < parts:
            log.warning(
                "class %r has %d labelled %s (of %d): too few to be in each of the %d "
                "parts of the split, so the model is trained or scored without it. A typo in "
                "%s? List the classes in data.class_names to have any other value refused.",
                name, counts[index], unit, len(split), parts, table.source,
            )  # fmt: skip
    variants: dict[str, list[str]] = {}
    for name in table.class_names:  # "Benign" and "benign", "no lesion" and "no  lesion"
        variants.setdefault(" ".join(name.split()).casefold(), []).append(name)
    for names in (v for v in variants.values() if len(v) > 1):
        log.warning(
            "labels %s in %s differ only in letter case or spacing: they are %d classes. "
            "Correct the CSV if they are one, or list the classes in data.class_names to "
            "have any other value refused.",
            " and ".join(map(repr, names)), table.source, len(names),
        )  # fmt: skip


def store_classes(table: LabelTable, run_dir: Path) -> None:
    """Write ``classes.json`` (the class order of the run) unless it is already there."""
    path = run_dir / CLASSES_FILE
    if not path.exists():
        payload = {"class_names": table.class_names, "source": table.source}
        atomic_write_text(path, json.dumps(payload, indent=2))


def stored_class_names(run_dir: Path) -> list[str] | None:
    """The class names a run stored (``classes.json``), or ``None``."""
    path = run_dir / CLASSES_FILE
    if not path.is_file():
        return None
    return list(json.loads(path.read_text())["class_names"])


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV cell that a spreadsheet will not run as a formula.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'`` (OWASP, "CSV Injection"). For text such as class names; numbers are
    written as numbers and need none.

    Examples
    --------
    >>> spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe("benign")
    ("'=HYPERLINK(1)", 'benign')
    """
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def read_rows(path: Path) -> tuple[list[CsvRow], list[str]]:
    """A labels CSV's rows (``line``: the user's line) and its columns."""
    if not path.is_file():
        raise RadpipeError(f"{path.name}: labels file not found.")
    reader = csv.DictReader(csv_text(path))
    rows = user_lines(list(csv_rows(reader)))  # a resolved copy's rows: the user's lines
    return rows, list(reader.fieldnames or [])


def read_key_column(
    path: Path, column: str, key: str, shown: str, what: str
) -> tuple[dict[str, str], dict[str, int]]:
    """One column of a labels CSV: ``{key: cell text}`` (stripped) and ``{key: CSV line}``.

    ``key`` as in :func:`read_label_table`; ``what`` names the column in messages
    (``"split.column"``).

    Raises
    ------
    RadpipeError
        The file, the column or the key column is missing, a key cell is empty or not a UID,
        or a key is listed twice with different values.
    """
    rows, columns = read_rows(path)
    if column not in columns:
        raise RadpipeError(f"{shown}: no {what} column {column!r}; columns: {', '.join(columns)}.")
    return _raw_labels(shown, rows, column, key, what)


def _raw_labels(
    name: str, rows: list[CsvRow], column: str, key: str, what: str = "label"
) -> tuple[dict[str, str], dict[str, int]]:
    """``{key: label text}`` (stripped) and ``{key: line}``; a key listed twice must have one
    label (one ``what``)."""
    names = ("image",) if key == "image" else ("series_key", "series_uid")
    key_col = next((c for c in names if rows and c in rows[0]), None)
    if rows and key_col is None:
        raise RadpipeError(f"{name}: needs a {' or '.join(map(repr, names))} column.")
    out: dict[str, str] = {}
    lines: dict[str, int] = {}
    for r in rows:
        assert key_col is not None
        try:  # no spaces in UIDs; Excel's ="..." is the UID
            k = (r[key_col] or "").strip() if key_col == "image" else csv_uid(r[key_col], key_col)
        except ValueError as err:
            raise RadpipeError(f"{name} line {r.line}: {err}.") from None
        if not k.strip():
            raise RadpipeError(f"{name} line {r.line}: the {key_col} cell is empty; fill it in "
                               "or delete the row.")  # fmt: skip
        k = k if key_col == "series_key" else hash_key(k)
        value = csv_label(r.get(column))
        if k in out and out[k] != value:
            raise RadpipeError(
                f"{name} line {r.line}: {key_col} listed again with another {what} "
                f"({out[k]!r} then {value!r})."
            )
        out[k] = value
        lines.setdefault(k, r.line)
    return out, lines


def class_index(
    name: str, rows: list[CsvRow], column: str, class_names: list[str] | None
) -> tuple[list[str], dict[str, int]]:
    """The classes of a labels CSV's ``rows`` in index order (see the module's rules) and
    ``{label text: class index}`` for each label of ``column``; ``name`` names the CSV.

    Raises
    ------
    RadpipeError
        Indices mixed with names, a ``class_name`` column that disagrees with the indices,
        or a value that is no class of ``class_names``.
    """
    values = sorted({v for r in rows if (v := csv_label(r.get(column))) != ""})
    check_number_like(name, column, rows, list(class_names or []))
    if class_names:
        names = list(class_names)
    elif all(_is_int(v) for v in values):
        check_index_range(name, column, rows)
        names = _integer_names(rows, column, values)
    elif any(_is_int(v) for v in values):
        mixed = [v for v in values if _is_int(v)][:_SHOWN]
        raise RadpipeError(
            f"{name}: column {column!r} mixes class indices ({', '.join(mixed)}) with "
            "class names; use one or the other, or list data.class_names."
        )
    else:
        names = values
    check_named(name, column, rows, names)
    return names, _index_of(name, column, names, values)


def _integer_names(rows: list[CsvRow], column: str, values: list[str]) -> list[str]:
    named: dict[int, str] = {}
    for r in rows:
        text, name = csv_label(r.get(column)), (r.get("class_name") or "").strip()
        if text and name:  # spaces around a name are no part of it, as around a label
            named[int(text)] = name
    k = max([int(v) for v in values] + list(named) + [1]) + 1
    return [named.get(i, str(i)) for i in range(k)]


def _index_of(name: str, column: str, names: list[str], values: list[str]) -> dict[str, int]:
    """``{label text: class index}`` for every value; unknown values are an error."""
    index = {n: i for i, n in enumerate(names)}  # a name first, then an index into names
    index |= {
        v: int(v) for v in values if v not in index and _is_int(v) and 0 <= int(v) < len(names)
    }
    unknown = [v for v in values if v not in index]
    if unknown:
        raise RadpipeError(
            f"{name}: column {column!r} has values that are not classes of the run "
            f"({', '.join(map(repr, unknown[:_SHOWN]))}); classes: {', '.join(names)}."
            f"{class_case_hint(unknown, names)}"
        )
    return {v: index[v] for v in values}
