"""Patient-grouped, label-stratified splits: train/val/test by ratios, and k-fold.

A patient's series always land in the same split (and the same fold): leakage between
training and evaluation through the same patient is the classic error in medical imaging
(nnU-Net #1871). Assignment is greedy, like scikit-learn's ``StratifiedGroupKFold``: the
patients, shuffled by the seed and then taken largest first, each go to the split whose
per-class counts are furthest below their targets.

``split.csv`` layout (one row per series)::

    patient_key, series_key, label, split, fold

* ratio split: ``split`` is ``train``/``val``/``test``; ``fold`` is ``-1``.
* k-fold: rows of the cross-validation pool have ``split = train`` and ``fold`` = the index
  (0..k-1) of the fold in which they are held out; for fold ``i`` the validation set is
  ``fold == i`` and the training set the other pool rows (see :func:`select_fold`). Rows
  held out for a final test (``test_ratio > 0``) have ``split = test`` and ``fold = -1``.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.cell_checks import csv_class_index, csv_uid_cell
from pipeline.cells import csv_key, csv_rows, csv_text
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key
from pipeline.words import counted

__all__ = [
    "SPLIT_COLUMNS",
    "SplitLeakError",
    "check_no_leak",
    "read_split_csv",
    "rows_from_labels_csv",
    "select_fold",
    "split_by_ratio",
    "split_k_fold",
    "write_split_csv",
]

SPLIT_COLUMNS = ("patient_key", "series_key", "label", "split", "fold")
_NAMES = ("train", "val", "test")


class SplitLeakError(RadpipeError):
    """A patient appears in more than one split (or fold)."""


def rows_from_labels_csv(path: str | Path) -> list[dict[str, Any]]:
    """Series rows ``{patient_key, series_key, label}`` from a ``labels.csv``.

    ``labels.csv`` has ``patient_id``, ``series_uid`` and ``label`` (a class index, or empty
    for an unlabelled series), as written by ``radpipe synth``; identifiers are hashed with
    :func:`pipeline.keys.hash_key`. A series listed again with the same patient and label
    gives one row. A row with an empty ``patient_id`` is placed by its study (``study_uid``,
    the key ``radpipe run`` gives such a series), with a warning: one key for all of them made
    them one patient, put in one part of the split together.

    Raises
    ------
    RadpipeError
        Naming the CSV and its line: a label that is no class index (``benign``, ``1.5``;
        it was Python's ``invalid literal for int()``), a series listed again with another
        label or patient (both rows were split as two series, unsaid), an empty
        ``series_uid``, an empty ``patient_id`` without a ``study_uid``.
    """
    name = Path(path).name
    reader = csv.DictReader(csv_text(path))  # a BOM (Excel's "CSV UTF-8") is no column name
    missing = {"patient_id", "series_uid", "label"} - set(reader.fieldnames or [])
    if missing:
        raise RadpipeError(f"{name}: missing columns {sorted(missing)}.")
    rows: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    unnamed: set[str] = set()
    for r in csv_rows(reader):
        where = f"{name} line {r.line}"
        patient, named = _patient_key(r, where)
        series = hash_key(csv_uid_cell(r, "series_uid", where))
        row = {"patient_key": patient, "series_key": series,
               "label": csv_class_index(r["label"], where)}  # fmt: skip
        if not named:
            unnamed.add(series)
        first = rows.setdefault(series, row)
        lines.setdefault(series, r.line)
        if first != row:
            what = "label" if first["label"] != row["label"] else "patient_id"
            raise RadpipeError(
                f"{where}: series_uid listed again (line {lines[series]}) with another {what}: "
                f"a series has one {what}."
            )
    if unnamed:
        warnings.warn(
            f"{name}: {counted(len(unnamed), 'series')} without patient_id: each study is "
            "taken for a patient of its own in the split; the studies of one patient can then "
            "be in two parts of the split: give them their patient_id to keep each in one.",
            stacklevel=2,
        )
    return list(rows.values())


def _patient_key(row: Mapping[str, str], where: str) -> tuple[str, bool]:
    """The hashed patient_id and ``True``; without one, the study's key and ``False``."""
    patient = csv_key(row.get("patient_id"))
    if patient:
        return hash_key(patient), True
    if not csv_key(row.get("study_uid")):
        raise RadpipeError(
            f"{where}: patient_id is empty and there is no study_uid to place the series by: "
            "every series without a patient would be one patient, in one part of the split."
        )
    study = hash_key(csv_uid_cell(row, "study_uid", where))
    return hash_key(f"no PatientID, study {study}"), False


def _groups(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], np.ndarray]:
    """Patient keys (sorted) and their per-class series counts ``(G, K)``."""
    labels = sorted({str(r.get("label")) for r in rows})
    patients = sorted({str(r["patient_key"]) for r in rows})
    p_index = {p: i for i, p in enumerate(patients)}
    l_index = {lab: i for i, lab in enumerate(labels)}
    counts = np.zeros((len(patients), len(labels)), dtype=np.int64)
    for r in rows:
        counts[p_index[str(r["patient_key"])], l_index[str(r.get("label"))]] += 1
    return patients, counts


def _assign(
    counts: np.ndarray,
    fractions: np.ndarray,
    rng: np.random.Generator,
    min_groups: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy stratified assignment of groups (rows of ``counts``) to ``len(fractions)`` bins.

    Every bin with a fraction > 0 gets at least ``min_groups`` groups (default 1): once the
    groups left are no more than the bins still short of theirs need, they go to those bins.
    Until 2026-12-02 a bin could end up empty (10 patients split 0.9/0.05/0.05 had no test
    part; a k-fold test hold-out could take all but one patient, and the folds then failed
    saying that the data held one patient ID).
    """
    n_groups = counts.shape[0]
    need = np.where(fractions > 0, 1 if min_groups is None else min_groups, 0)
    needed = int(need.sum())
    if n_groups < needed:
        series = int(counts.sum())
        hint = (f" Their {series} series carry {counted(n_groups, 'distinct patient ID')}: a "
                "de-identification that wrote one PatientID for every patient makes them "
                "one patient; give each patient its own ID, or give the split yourself "
                "(split.column).") if series >= 2 * needed else ""  # fmt: skip
        raise RadpipeError(
            f"Cannot split {counted(n_groups, 'patient')} into {needed} non-empty parts (a "
            f"patient's series all go to one part).{hint}"
        )
    totals = counts.sum(axis=0).astype(np.float64)
    targets = fractions[:, None] * totals[None, :]  # (S, K)
    weights = 1.0 / np.maximum(totals, 1.0) ** 2
    size_targets = fractions * totals.sum()
    have = np.zeros_like(targets)
    order = rng.permutation(n_groups)
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    out = np.empty(n_groups, dtype=np.int64)
    for left, g in enumerate(order):
        c = counts[g].astype(np.float64)
        # Change in weighted squared distance to the targets if g joins each bin.
        cost = ((2 * (have - targets) + c) * c * weights).sum(axis=1)
        # Plus the same for the bin's total size, so classes do not all pile into one bin.
        n = c.sum()
        cost += (2 * (have.sum(axis=1) - size_targets) + n) * n / max(float(totals.sum()), 1) ** 2
        cost[fractions <= 0] = np.inf
        if need.clip(min=0).sum() >= n_groups - left:  # the groups left must fill short bins
            cost[need <= 0] = np.inf
        s = int(np.argmin(cost))
        out[g] = s
        have[s] += c
        need[s] -= 1
    return out


def _check_rows(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    out = list(rows)
    if not out:
        raise RadpipeError("Cannot split an empty list of series.")
    for col in ("patient_key", "series_key"):
        if col not in out[0]:
            raise RadpipeError(f"Split rows need a {col!r} column; got {sorted(out[0])}.")
    return out


def split_by_ratio(
    rows: Iterable[Mapping[str, Any]],
    ratios: Sequence[float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Train/val/test split, grouped by patient and stratified by label.

    Parameters
    ----------
    rows
        Series rows with ``patient_key``, ``series_key`` and ``label``.
    ratios
        ``(train, val, test)`` fractions of the series (a zero drops that split); they must
        sum to 1.
    seed
        The same rows and seed always give the same split.

    Returns
    -------
    The rows in their input order with ``split`` and ``fold`` (``-1``) added.
    """
    items = _check_rows(rows)
    fr = np.asarray([float(r) for r in ratios], dtype=np.float64)
    if fr.shape != (3,) or (fr < 0).any() or not np.isclose(fr.sum(), 1.0):
        raise ValueError(f"ratios must be three fractions >= 0 summing to 1; got {ratios!r}.")
    patients, counts = _groups(items)
    where = dict(zip(patients, _assign(counts, fr, np.random.default_rng(seed))))
    return [{**_base(r), "split": _NAMES[where[str(r["patient_key"])]], "fold": -1} for r in items]


def split_k_fold(
    rows: Iterable[Mapping[str, Any]], k: int = 5, seed: int = 0, test_ratio: float = 0.0
) -> list[dict[str, Any]]:
    """K-fold cross-validation folds, grouped by patient and stratified by label.

    With ``test_ratio > 0`` a stratified, grouped test set is held out first and the folds
    are made from the rest. See the module docstring for the ``split``/``fold`` layout.
    """
    if k < 2:
        raise ValueError(f"k must be >= 2; got {k}.")
    if not 0 <= test_ratio < 1:
        raise ValueError(f"test_ratio must be in [0, 1); got {test_ratio}.")
    items = _check_rows(rows)
    rng = np.random.default_rng(seed)
    test: set[str] = set()
    if test_ratio > 0:
        patients, counts = _groups(items)
        # the pool keeps k patients for its k folds
        assigned = _assign(counts, np.array([1 - test_ratio, test_ratio]), rng, np.array([k, 1]))
        test = {p for p, a in zip(patients, assigned) if a == 1}
    pool = [r for r in items if str(r["patient_key"]) not in test]
    patients, counts = _groups(pool)
    fold_of = dict(zip(patients, _assign(counts, np.full(k, 1.0 / k), rng)))
    out = []
    for r in items:
        key = str(r["patient_key"])
        if key in test:
            out.append({**_base(r), "split": "test", "fold": -1})
        else:
            out.append({**_base(r), "split": "train", "fold": int(fold_of[key])})
    return out


def _base(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "patient_key": str(row["patient_key"]),
        "series_key": str(row["series_key"]),
        "label": row.get("label"),
    }


def select_fold(rows: Iterable[Mapping[str, Any]], fold: int) -> dict[str, list[dict[str, Any]]]:
    """``{"train": [...], "val": [...], "test": [...]}`` for one fold of a k-fold split."""
    out: dict[str, list[dict[str, Any]]] = {"train": [], "val": [], "test": []}
    for r in rows:
        if r["split"] == "test":
            out["test"].append(dict(r))
        elif int(r["fold"]) == fold:
            out["val"].append(dict(r))
        else:
            out["train"].append(dict(r))
    if not out["val"]:
        raise RadpipeError(f"Fold {fold} has no rows; is this a k-fold split?")
    return out


def write_split_csv(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write ``split.csv`` atomically with the columns :data:`SPLIT_COLUMNS`."""
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SPLIT_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            label = r.get("label")
            writer.writerow({**r, "label": "" if label is None else label})
    return path


def read_split_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read ``split.csv``; ``label`` becomes ``int`` (or ``None``), ``fold`` an ``int``."""
    path = Path(path)
    reader = csv.DictReader(csv_text(path))  # one saved from Excel starts with a BOM
    missing = set(SPLIT_COLUMNS) - set(reader.fieldnames or [])
    if missing:
        raise RadpipeError(f"{path.name}: missing columns {sorted(missing)}.")
    rows = []
    for r in csv_rows(reader):
        if r["split"] not in _NAMES:
            raise RadpipeError(
                f"{path.name}:{r.line}: split must be train/val/test; got {r['split']!r}."
            )
        rows.append(
            {
                "patient_key": r["patient_key"],
                "series_key": r["series_key"],
                "label": int(r["label"]) if r["label"] != "" else None,
                "split": r["split"],
                "fold": int(r["fold"]) if r["fold"] != "" else -1,
            }
        )
    return rows


def check_no_leak(
    split: str | Path | Iterable[Mapping[str, Any]] | Any,
    sources: Mapping[str, str] | None = None,
    unit: str = "series",
) -> None:
    """Raise :class:`SplitLeakError` if a patient key appears in two splits or two folds.

    ``split`` is a ``split.csv`` path, a list of row mappings, or a pandas ``DataFrame``.
    ``sources`` (``{series_key: a file of it}``, :func:`pipeline.names.series_sources`) lets
    the message name a file of the patient's series in each part, beside the hashed keys: a
    user cannot find a patient key in their data, and no patient ID is shown. ``unit``: how
    :func:`pipeline.names.series_name` calls a row (``""``: an image, named by its file).

    Raises
    ------
    SplitLeakError
        ``Patient 3f2a... is in split 'train' (fold -1: p1/s1/0001.dcm (series 8c1f...)) and
        split 'test' (fold -1: p1/s2/0001.dcm (series 9d0e...)).``; without ``sources`` the
        series by key.
    """
    from pipeline.names import series_name

    if isinstance(split, (str, Path)):
        rows: Iterable[Mapping[str, Any]] = read_split_csv(split)
    elif hasattr(split, "to_dict"):
        rows = split.to_dict("records")
    else:
        rows = split
    seen: dict[str, tuple[tuple[str, int], str]] = {}
    for r in rows:
        key = str(r["patient_key"])
        place = (str(r["split"]), int(r.get("fold", -1)))
        series = str(r.get("series_key", ""))
        first, first_series = seen.setdefault(key, (place, series))
        if first != place:
            where = [f"split {p[0]!r} (fold {p[1]}: {series_name(k, sources or {}, unit)})"
                     for p, k in ((first, first_series), (place, series))]  # fmt: skip
            raise SplitLeakError(f"Patient {key} is in {where[0]} and {where[1]}.")
