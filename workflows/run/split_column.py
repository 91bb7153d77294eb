"""The run's ``split:`` section, and a split given by the user: ``split.column``.

By default ``radpipe run`` splits by ratio (or k-fold), grouped by patient and stratified by
label (:mod:`pipeline.split`). Many studies come with a split of their own: a challenge's or
MedMNIST's official train/validation/test sets, a hospital's held-out test patients. Results
are comparable with published ones only on that split, so ``split.column`` names a column of
the labels CSV (``data.labels``) whose cells say each series' (``data.kind: images``: each
image's) part: ``train``, ``val`` or ``test`` (also ``training``, ``valid``, ``validation``,
``testing``; any case). With ``split.folds: k`` the column's ``test`` rows are the held-out
test set and the other rows are split into ``k`` folds as usual.

Every series the run uses must have a part, and all series of one patient one part (a patient
in two parts leaks its images between training and evaluation); otherwise the run stops before
training, naming the CSV's lines and a file of each series (the image).

This module must stay light to import (no torch): :class:`SplitConfig` is part of the config.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from pipeline.errors import RadpipeError
from pipeline.names import name_keys
from pipeline.words import are, counted
from workflows.run.config_model import Strict

__all__ = [
    "PART_NAMES",
    "SplitConfig",
    "make_split",
    "read_split_column",
    "split_from_column",
    "split_parts",
]

#: Cell text (lower case) -> the part it names.
PART_NAMES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val",
    "test": "test", "testing": "test",
}  # fmt: skip
_SHOWN = 5  # rows named in a message; the rest are counted
_DEFAULT_FRACTION = 0.2  # split.test and split.val


class SplitConfig(Strict):
    """Train/validation/test split, grouped by patient and stratified by label; or the split
    of the labels CSV's ``column``."""

    test: float = Field(
        _DEFAULT_FRACTION, ge=0.0, lt=1.0, description="fraction held out (0: evaluate externally)"
    )
    val: float = Field(_DEFAULT_FRACTION, ge=0.0, lt=1.0)
    folds: int = Field(0, ge=0, description="k > 1 runs k-fold cross-validation")
    stratify: bool = True
    column: str | None = Field(
        None, description="labels CSV column giving each series' part: train, val or test"
    )

    @model_validator(mode="after")
    def _fractions(self) -> SplitConfig:
        if self.folds == 1:
            raise ValueError("folds must be 0 (no cross-validation) or >= 2")
        if self.test + (0 if self.folds else self.val) >= 1.0:
            raise ValueError(f"test + val must be < 1; got {self.test} + {self.val}")
        # a fraction other than its default beside the column (a run's saved config holds
        # every default, so it is read back with them)
        given = [k for k in ("test", "val") if getattr(self, k) != _DEFAULT_FRACTION]
        given = given if self.column else []
        if given and self.folds and given == ["val"]:
            given = []  # k-fold ignores val anyway
        if given:
            raise ValueError(
                f"column {self.column!r} gives each series' part, so the fractions "
                f"{' and '.join(f'split.{g}' for g in given)} would be ignored; give one or "
                "the other"
            )
        return self

    def no_test_reason(self) -> str:
        """Why a run has no internal test set (``split.test: 0``, or a ``column`` that marks
        no row ``test``), as the run's log and closing lines say it."""
        if self.column:
            return f"split.column {self.column!r} marks no row 'test'"
        return "split.test is 0"


def split_parts(config: Any, path: Path | None, key: str) -> dict[str, Any] | None:
    """``split.column`` of the run's labels CSV ``path`` (the user's, or the one resolved
    from ``file`` keys) read by :func:`read_split_column`; ``None`` without the option."""
    labels = config.data.labels
    if config.split.column is None or path is None or labels is None:
        return None
    # a CSV resolved from `file` keys keeps the user's lines (workflows.run.truth_rows)
    return read_split_column(path, config.split.column, key, labels.name)


def make_split(
    config: Any, series: list[dict[str, Any]], parts: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The run's ``split.csv`` rows: from ``parts`` (:func:`split_parts`) when given, else by
    ratio or k-fold (:mod:`pipeline.split`), grouped by patient, stratified unless
    ``split.stratify`` is false (``label`` kept in the rows either way)."""
    from pipeline.split import split_by_ratio, split_k_fold

    s = config.split
    if parts is not None:
        needs_val = (config.train.monitor or "val_").startswith("val_")
        return split_from_column(series, parts, config, shown=config.data.labels.name,
                                 needs_val=needs_val)  # fmt: skip
    rows = series if s.stratify else [{**r, "label": 0} for r in series]
    if s.folds:
        out = split_k_fold(rows, k=s.folds, seed=config.seed, test_ratio=s.test)
    else:
        out = split_by_ratio(rows, ratios=(1 - s.val - s.test, s.val, s.test), seed=config.seed)
    labels = {r["series_key"]: r["label"] for r in series}
    return [{**r, "label": labels[r["series_key"]]} for r in out]


def read_split_column(
    path: Path, column: str, key: str, shown: str, *, own_lines: bool = True
) -> dict[str, tuple[str, int | None]]:
    """``{series (image) key: (part, CSV line)}`` from ``column`` of a labels CSV.

    ``key`` is ``"series"`` (``series_uid`` / ``series_key`` column) or ``"image"``. The line
    is the user's, also in a CSV radpipe resolved from ``file`` keys (its ``csv_line``);
    ``None`` with ``own_lines=False``.

    Raises
    ------
    RadpipeError
        The column is missing, a cell is empty or names no part, or a key is listed twice
        with different parts.
    """
    from workflows.run.labels import read_key_column

    cells, lines = read_key_column(path, column, key, shown, "split.column")
    out: dict[str, tuple[str, int | None]] = {}
    bad = []
    for k, text in cells.items():
        part = PART_NAMES.get(text.strip().lower())
        if part is None:
            bad.append(f"line {lines.get(k)}: {text!r}" if text else f"line {lines.get(k)}: empty")
        else:
            out[k] = (part, lines.get(k) if own_lines else None)
    if bad:
        raise RadpipeError(
            f"{shown}: split.column {column!r} must say train, val or test in every row; "
            f"{counted(len(bad), 'row')} {are(len(bad), 'does', 'do')} not "
            f"({'; '.join(bad[:_SHOWN])}"
            f"{'; ...' if len(bad) > _SHOWN else ''})."
        )
    return out


def split_from_column(
    series: list[dict[str, Any]],
    parts: dict[str, tuple[str, int | None]],
    config: Any,
    *,
    shown: str,
    needs_val: bool,
) -> list[dict[str, Any]]:
    """The ``split.csv`` rows of ``series`` (``patient_key``, ``series_key``, ``label``) with
    the parts of ``parts`` (:func:`read_split_column`); ``config`` is the run's config.

    With ``config.split.folds`` = k the ``test`` rows stay the test set and the other rows are
    split into k folds (:func:`pipeline.split.split_k_fold`, grouped and stratified).

    Raises
    ------
    RadpipeError
        A series without a part, a patient in two parts, no training series, or no
        validation series when ``needs_val`` (a ``val_*`` monitor without folds).
    """
    from pipeline.split import split_k_fold

    column = config.split.column
    lost = [r["series_key"] for r in series if r["series_key"] not in parts]
    sources = {r["series_key"]: r["source"] for r in series if r.get("source")}
    unit = "" if config.data.kind == "images" else "series"  # an image's key is its file's
    if lost:
        raise RadpipeError(
            f"{shown}: split.column {column!r}: {len(lost)} of the {len(series)} series "
            f"(images) to train and test on have no row, so no part "
            f"({name_keys(lost, sources, unit, _SHOWN)}); add their rows."
        )
    _check_patients(series, parts, column, shown)
    part_of = {r["series_key"]: parts[r["series_key"]][0] for r in series}
    if config.split.folds:
        pool = [r for r in series if part_of[r["series_key"]] != "test"]
        rows = pool if config.split.stratify else [{**r, "label": 0} for r in pool]
        folds = {r["series_key"]: r["fold"] for r in split_k_fold(rows, k=config.split.folds,
                                                                    seed=config.seed)}  # fmt: skip
        out = [{**_base(r), "split": "train" if r["series_key"] in folds else "test",
                "fold": folds.get(r["series_key"], -1)} for r in series]  # fmt: skip
    else:
        out = [{**_base(r), "split": part_of[r["series_key"]], "fold": -1} for r in series]
    counts = {p: sum(r["split"] == p for r in out) for p in ("train", "val", "test")}
    if not counts["train"]:
        raise RadpipeError(f"{shown}: split.column {column!r} names no training series.")
    if needs_val and not config.split.folds and not counts["val"]:
        raise RadpipeError(
            f"{shown}: split.column {column!r} names no validation series, but the run "
            "monitors a validation metric (early stopping, best.pt); mark some patients 'val', "
            "or set train.monitor: train_loss."
        )
    return out


def _base(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("patient_key", "series_key", "label")}


def _check_patients(
    series: list[dict[str, Any]], parts: dict[str, tuple[str, int | None]], column: str,
    shown: str,
) -> None:  # fmt: skip
    """A patient's series must all be in one part: else images of one patient are both
    trained on and scored (SplitLeakError's kind of fault, said with the CSV's lines)."""
    seen: dict[str, dict[str, str]] = defaultdict(dict)
    for r in series:
        part, line = parts[r["series_key"]]
        where = [f"line {line}"] if line is not None else []
        where.append(r.get("source") or f"series {r['series_key']}")  # relative, escaped
        seen[r["patient_key"]].setdefault(part, ", ".join(where))
    mixed = {p: v for p, v in seen.items() if len(v) > 1}
    if mixed:
        shown_rows = [
            f"patient {p}: " + ", ".join(f"{part} ({where})" for part, where in sorted(v.items()))
            for p, v in sorted(mixed.items())[:_SHOWN]
        ]
        raise RadpipeError(
            f"{shown}: split.column {column!r} puts {counted(len(mixed), 'patient')} in more "
            f"than one part, so their images would be both trained on and scored: "
            f"{'; '.join(shown_rows)}{'; ...' if len(mixed) > _SHOWN else ''}. Give all of a "
            "patient's rows one part."
        )
