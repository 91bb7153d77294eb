"""Evaluation results for a run: ``metrics.json``, plots and a self-contained ``report.html``.

The run workflow calls :func:`evaluate_classification` or :func:`evaluate_segmentation`,
writes the result with :func:`write_metrics`, draws figures with :mod:`workflows.report.plots`, and
finally :func:`write_report`, which renders whatever the run directory holds. ``radpipe report
RUN/`` calls :func:`write_report` again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from pipeline.metrics import (
    ConfusionAccumulator,
    EmptyPolicy,
    confusion_matrix,
    normalize_confusion,
    rates_from_confusion,
    roc_auc_score,
    surface_metrics_per_class,
)

_RATES = ("sensitivity", "specificity", "precision", "npv", "f1")


def evaluate_classification(
    true: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Every classification figure, as the content of ``metrics.json``.

    Parameters
    ----------
    true
        True class indices ``(N,)``.
    probs
        Class probabilities (or scores) ``(N, K)``; the prediction is their argmax.
    class_names
        ``K`` names, in class-index order.
    ids
        Opaque case ids (hashed keys) for the per-case table; default running numbers.

    Returns
    -------
    dict
        ``task``, ``num_classes``, ``class_names``, ``num_cases``, ``policy`` (how undefined
        values are reported), ``summary`` (accuracy, balanced accuracy, macro rates, macro
        ROC AUC), ``per_class`` (one dict per class name), ``confusion_matrix`` (counts, rows =
        truth), ``confusion_matrix_by_true`` (row-normalised) and ``per_case``.
    """
    labels = np.asarray(true).astype(np.int64).ravel()
    scores = np.asarray(probs, dtype=np.float64)
    k = len(class_names)
    if scores.shape != (labels.size, k):
        raise ValueError(f"Expected probs of shape ({labels.size}, {k}); got {scores.shape}.")
    pred = scores.argmax(axis=1)
    cm = confusion_matrix(labels, pred, k)
    rates = rates_from_confusion(cm)
    auc = np.atleast_1d(roc_auc_score(labels, scores, average="none") if k > 2 else [])
    if k == 2:
        binary_auc = float(roc_auc_score(labels, scores[:, 1]))
        auc = np.array([binary_auc, binary_auc])
    summary: dict[str, Any] = {
        "accuracy": rates["accuracy"],
        "balanced_accuracy": rates["balanced_accuracy"],
        **{f"{name}_macro": rates[f"{name}_macro"] for name in _RATES},
        "roc_auc_macro": _nanmean(auc[1:] if k == 2 else auc),
    }
    per_class = {
        name: {
            "support": int(np.asarray(rates["support"])[c]),
            **{rate: float(np.asarray(rates[rate])[c]) for rate in _RATES},
            "roc_auc": float(auc[c]),
        }
        for c, name in enumerate(class_names)
    }
    names = list(ids) if ids is not None else [f"case{i}" for i in range(labels.size)]
    per_case = [
        {"id": names[i], "true": int(labels[i]), "pred": int(pred[i]), "probs": scores[i].tolist()}
        for i in range(labels.size)
    ]
    return {
        "task": "classification",
        "num_classes": k,
        "class_names": list(class_names),
        "num_cases": int(labels.size),
        "policy": {
            "prediction": "argmax of probabilities",
            "undefined": "a rate with a zero denominator is null and skipped in macro means",
            "roc_auc": "binary for 2 classes, else one-vs-rest macro",
        },
        "summary": summary,
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_by_true": normalize_confusion(cm, by="true").tolist(),
        "per_case": per_case,
    }


def evaluate_segmentation(
    cases: Iterable[tuple[str, Any, Any, Sequence[float] | None]],
    num_classes: int,
    class_names: Sequence[str],
    *,
    include_background: bool = False,
    empty: EmptyPolicy = "nan",
    surface: bool = True,
    percentile: float = 95.0,
) -> dict[str, Any]:
    """Every segmentation figure, per class and per case, as the content of ``metrics.json``.

    Parameters
    ----------
    cases
        ``(id, true_mask, pred_mask, spacing)`` per case; masks are integer label maps of the
        same shape (numpy or torch), spacing in mm per axis (``None``: 1 mm).
    num_classes, class_names
        ``K`` and its names (background first).
    include_background
        Whether class 0 is scored.
    empty
        Empty-mask policy for Dice and Jaccard (see :mod:`pipeline.metrics.overlap`).
    surface
        Also compute HD95 and mean surface distance per case and class (scipy distance
        transforms; the slow part on large volumes).

    Returns
    -------
    dict
        ``task``, ``policy``, ``summary`` (case-mean and dataset-level Dice and Jaccard, mean
        HD95/MSD), ``per_class`` (per class name: dataset Dice/Jaccard, mean over cases, and
        surface means), ``dataset`` (pooled counts: confusion matrix, macro/micro/weighted),
        and ``per_case`` (id, Dice/Jaccard/HD95/MSD by class name, macro Dice).
    """
    acc = ConfusionAccumulator(
        num_classes, per_case=True, include_background=include_background, empty=empty
    )
    first = 0 if include_background else 1
    scored = list(class_names)[first:]
    surfaces: list[dict[str, list[float]]] = []
    for case_id, true, pred, spacing in cases:
        acc.update(true, pred, ids=[case_id])
        if surface:
            surfaces.append(
                surface_metrics_per_class(
                    true, pred, num_classes, spacing,
                    include_background=include_background, percentile=percentile,
                )
            )  # fmt: skip
    result = acc.compute()
    per_case_raw = result.pop("per_case")
    per_case = []
    for i, case_id in enumerate(per_case_raw["ids"]):
        row: dict[str, Any] = {"id": case_id, "dice_macro": per_case_raw["dice_macro"][i]}
        row["dice"] = dict(zip(scored, per_case_raw["dice"][i][first:], strict=True))
        row["jaccard"] = dict(zip(scored, per_case_raw["jaccard"][i][first:], strict=True))
        if surface:
            row["hd95"] = dict(zip(scored, surfaces[i]["hd95"], strict=True))
            row["msd"] = dict(zip(scored, surfaces[i]["msd"], strict=True))
        per_case.append(row)
    per_class = _segmentation_per_class(scored, first, result, per_case, surface)
    summary = {
        "dice_case_mean": result["dice_case_mean"],
        "jaccard_case_mean": result["jaccard_case_mean"],
        "dice_dataset_macro": result["dice_macro"],
        "jaccard_dataset_macro": result["jaccard_macro"],
    }
    if surface:
        for key in ("hd95", "msd"):
            summary[f"{key}_mean"] = _nanmean([per_class[n][f"{key}_mean"] for n in scored])
    return {
        "task": "segmentation",
        "num_classes": num_classes,
        "class_names": list(class_names),
        "num_cases": len(per_case),
        "policy": {
            "include_background": include_background,
            "empty": empty,
            "empty_meaning": _EMPTY_MEANING[empty],
            "false_positive_on_empty_truth": "Dice = Jaccard = 0",
            "surface": f"HD{percentile:g} and symmetric mean surface distance in mm; null "
            "when a class is absent from both masks or from exactly one (infinite)",
            "averages": "case mean = mean over cases of each case's macro over classes; "
            "dataset = counts pooled over all cases",
        },
        "summary": summary,
        "per_class": per_class,
        "dataset": {k: v for k, v in result.items() if k != "num_classes"},
        "per_case": per_case,
    }


_EMPTY_MEANING = {
    "nan": "class absent from truth and prediction: null, skipped in averages",
    "one": "class absent from truth and prediction: scored 1.0",
    "zero": "class absent from truth and prediction: scored 0.0",
}


def _segmentation_per_class(
    scored: Sequence[str],
    first: int,
    result: dict[str, Any],
    per_case: Sequence[dict[str, Any]],
    surface: bool,
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for offset, name in enumerate(scored):
        c = first + offset
        entry = {
            "dice_dataset": result["dice"][c],
            "jaccard_dataset": result["jaccard"][c],
            "dice_case_mean": _nanmean([row["dice"][name] for row in per_case]),
            "jaccard_case_mean": _nanmean([row["jaccard"][name] for row in per_case]),
            "sensitivity": result["sensitivity"][c],
            "precision": result["precision"][c],
        }
        if surface:
            for key in ("hd95", "msd"):
                values = [row[key][name] for row in per_case]
                entry[f"{key}_mean"] = _nanmean([v for v in values if math.isfinite(v)])
        out[name] = entry
    return out


def _nanmean(values: Iterable[float] | np.ndarray) -> float:
    array = np.asarray(list(values), dtype=np.float64)
    kept = array[~np.isnan(array)]
    return float(kept.mean()) if kept.size else float("nan")


def to_json_safe(value: Any) -> Any:
    """Replace NaN and infinities by ``None`` (JSON has neither) and numpy scalars by Python."""
    if isinstance(value, dict):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_metrics(path: str | Path, metrics: dict[str, Any]) -> Path:
    """Write ``metrics.json`` atomically (NaN/inf as ``null``, as the policy says).

    ``path`` is the JSON file, or a run directory (anything not ending in ``.json``), which
    gets ``metrics.json`` inside, created if needed.
    """
    path = Path(path)
    if path.suffix != ".json":
        path = path / "metrics.json"
    text = json.dumps(to_json_safe(metrics), indent=2, allow_nan=False)
    atomic_write_text(path, text + "\n")
    return path


def write_report(run_dir: str | Path, *, title: str | None = None) -> Path:
    """Render ``RUN/report.html`` from what the run directory holds; returns its path.

    Needs ``metrics.json``; uses ``config.yaml``, ``split.csv``, ``index.csv``,
    ``provenance.json``, ``log.jsonl`` and ``plots/*.png`` when present. Missing standard
    plots (confusion matrix, learning curves) are drawn from ``metrics.json`` and
    ``log.jsonl`` first. The HTML is self-contained: inline CSS, images as data URIs.

    Raises
    ------
    RadpipeError
        If ``run_dir`` is not a directory or has no readable ``metrics.json``.
    """
    from workflows.report.html import render_report

    run = Path(run_dir)
    if not run.is_dir():
        raise RadpipeError(f"{run}: not a run directory")
    metrics_path = run / "metrics.json"
    if not metrics_path.is_file():
        raise RadpipeError(f"{run}: no metrics.json (evaluate the run first)")
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RadpipeError(f"{metrics_path}: cannot read metrics: {err}") from err
    log = read_log(run / "log.jsonl")
    _draw_missing_plots(run, metrics, log)
    html = render_report(run, metrics, log, title=title or run.name)
    out = run / "report.html"
    atomic_write_text(out, html)
    return out


def read_log(path: Path) -> list[dict[str, Any]]:
    """Rows of ``log.jsonl``; a truncated last line (a run killed mid-write) is skipped."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _draw_missing_plots(run: Path, metrics: dict[str, Any], log: list[dict[str, Any]]) -> None:
    from workflows.report import plots

    plot_dir = run / "plots"
    cm = metrics.get("confusion_matrix") or metrics.get("dataset", {}).get("confusion_matrix")
    names = metrics.get("class_names") or [str(i) for i in range(len(cm or []))]
    if cm and not (plot_dir / "confusion_matrix.png").exists():
        plots.plot_confusion_matrix(cm, names, plot_dir / "confusion_matrix.png")
    if log and not (plot_dir / "learning_curves.png").exists():
        plots.plot_learning_curves(log, plot_dir / "learning_curves.png")
