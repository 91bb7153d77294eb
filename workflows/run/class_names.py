"""A labels CSV's ``class_name`` column beside integer labels: one name per class index, and
one class index per name.

Two indices that disagree with the names (another site's class order) would score every case
of those classes as the other class; two indices under one name (``2,benign`` beside
``1,benign``: a slip in the label column) made a class of their own that the report, the
predictions and ``classes.json`` named like another, while training a model with one more
output than the study has classes.
"""

from __future__ import annotations

import re

from pipeline.cells import CsvRow, csv_label
from pipeline.errors import RadpipeError


def is_int(text: str) -> bool:
    """Whether ``text`` is a class index: plain ASCII digits, with an optional sign.
    Python's ``int`` also reads ``1_0`` (as 10) and other scripts' digits (``\u0661``),
    which made them class indices no reader of the CSV would see."""
    return _INDEX.fullmatch(text) is not None


_INDEX = re.compile(r"[+-]?[0-9]+")


def check_number_like(shown: str, column: str, rows: list[CsvRow], names: list[str]) -> None:
    """Refuse a label that reads as a number but is no class index (``NaN``, ``inf``,
    ``1.5``, ``1e3``, ``1_0``, digits of another script), naming its line, unless it is one
    of the class names ``names`` (``data.class_names``). ``NaN`` (an empty cell as pandas
    writes it) was refused as "mixes class indices with class names", with no line. Raises
    a ``RadpipeError`` for the first such label, naming the CSV (``shown``) and its line.
    """
    for r in rows:
        text = csv_label(r.get(column))
        if not text or is_int(text) or text in names or not _number_like(text):
            continue
        missing = text.casefold().lstrip("+-") == "nan"
        why = ("a missing value (an empty cell as pandas or a spreadsheet writes it)"
               if missing else "a number, not a class index")  # fmt: skip
        raise RadpipeError(
            f"{shown} line {r.line}: column {column!r} holds {text!r}: {why}. A class is "
            "an index in plain digits 0-9 (0, 1, 2, ...) or a name; correct the value, or "
            "leave the row out."
        )


def _number_like(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: The largest class index a labels CSV may give. The run made a name for every index up to
#: the largest (``range``), so a label of 40 digits (an ID or a measurement in the label
#: column) ran the machine out of memory; no classifier has near this many classes.
MAX_CLASS_INDEX = 9999


def check_index_range(shown: str, column: str, rows: list[CsvRow]) -> None:
    """Refuse an integer label past :data:`MAX_CLASS_INDEX`, naming its line.

    Raises
    ------
    RadpipeError
        Naming the CSV (``shown``), the line, the column and the value.
    """
    for r in rows:
        text = csv_label(r.get(column))
        if is_int(text) and int(text) > MAX_CLASS_INDEX:
            value = text if len(text) <= 20 else f"{text[:8]}...{text[-4:]} ({len(text)} digits)"
            raise RadpipeError(
                f"{shown} line {r.line}: column {column!r} holds {value}, not a class index "
                f"(at most {MAX_CLASS_INDEX}; class indices count 0, 1, 2, ...): is that "
                "column an ID or a measurement? Correct the value, or name the label column "
                "with data.label_column."
            )


def check_named(shown: str, column: str, rows: list[CsvRow], names: list[str]) -> None:
    """A ``class_name`` column beside integer labels must name each index as ``names`` does
    (the run's stored classes, ``data.class_names``, or the names the column itself gives),
    and give no name to two indices.

    Raises
    ------
    RadpipeError
        Naming the CSV (``shown``), the indices and names at fault, and a line of each.
    """
    named: dict[int, dict[str, int]] = {}  # index -> {name: its first line}
    for r in rows:
        text, name = csv_label(r.get(column)), (r.get("class_name") or "").strip()
        if name and is_int(text):
            named.setdefault(int(text), {}).setdefault(name, r.line)
    bad = [
        f"{i} is {', '.join(map(repr, sorted(got)))}"
        + (f" (the run's class {i} is {names[i]!r})" if 0 <= i < len(names) else "")
        for i, got in sorted(named.items())
        if len(got) > 1 or (0 <= i < len(names) and set(got) != {names[i]})
    ]
    if bad:
        raise RadpipeError(
            f"{shown}: column 'class_name' disagrees with the class indices in column "
            f"{column!r}: {'; '.join(bad[:5])}; classes in index order: "
            f"{', '.join(names)}. Give the names in column {column!r} (mapped by name), or "
            "indices in that order, or drop the 'class_name' column."
        )
    by_name: dict[str, list[str]] = {}
    for i, got in sorted(named.items()):
        for name, line in got.items():
            by_name.setdefault(name, []).append(f"{i} (line {line})")
    shared = [f"{name!r} to {' and '.join(ix)}" for name, ix in by_name.items() if len(ix) > 1]
    if shared:
        raise RadpipeError(
            f"{shown}: column 'class_name' gives one name to several class indices in column "
            f"{column!r}: {'; '.join(shared[:5])}. Each index is a class of its own (the model "
            "would learn them apart under one name): correct the index, or give each class "
            "its own name."
        )


def check_unique_names(names: list[str] | None) -> None:
    """``data.class_names`` with a name twice: a label naming it would take one index
    silently, and the report would show two classes under one name."""
    twice = sorted({n for n in names or [] if (names or []).count(n) > 1})
    if twice:
        raise ValueError(f"class_names lists {', '.join(map(repr, twice))} more than once; "
                         "each class needs its own name")  # fmt: skip


def check_indices_used(source: str, names: list[str], indices: set[int], unit: str) -> None:
    """Integer labels that skip a class index below their largest (``1`` and ``2``, counted
    from 1 as R and MATLAB exports do; ``0`` and ``2``) are refused: the skipped index became
    a class without a single labelled ``unit``, the model got an output it never learns, and
    a two-class study was scored as three classes (no sensitivity, no ROC AUC), exit 0.

    ``source`` names the CSV and column, ``names`` are the classes read from it, ``indices``
    the class indices its rows give.
    """
    skipped = [i for i in range(max(indices, default=-1)) if i not in indices]
    if not skipped:
        return
    raise RadpipeError(
        f"{source} holds the class indices {', '.join(map(str, sorted(indices)))} and no "
        f"{' or '.join(map(str, skipped))}: index {skipped[0]} would be a class "
        f"({names[skipped[0]]!r}) without a single labelled {unit}, and the model would have "
        f"{len(names)} outputs. Class indices count from 0: if the column counts from 1, "
        "subtract 1 from it; else correct the indices, or list the classes in "
        "data.class_names to train with an empty class on purpose."
    )
