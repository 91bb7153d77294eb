"""Evaluation results for a run: ``metrics.json``, plots and a self-contained ``report.html``.

The run workflow calls :func:`evaluate_classification` (:mod:`.classification`) or
:func:`evaluate_segmentation` (:mod:`.segmentation`),
writes the result with :func:`write_metrics`, draws figures with :mod:`workflows.report.plots`, and
finally :func:`write_report`, which renders whatever the run directory holds. ``radpipe report
RUN/`` calls :func:`write_report` again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from workflows.report.classification import evaluate_classification
from workflows.report.segmentation import SegmentationCase, evaluate_segmentation

__all__ = [
    "SegmentationCase",
    "evaluate_classification",
    "evaluate_segmentation",
    "read_log",
    "report_title",
    "to_json_safe",
    "write_metrics",
    "write_report",
]


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


def report_title(run: Path, metrics: dict[str, Any]) -> str:
    """The report's title: the config's ``name`` (``RUN/config.yaml``), and for the ``--out``
    of ``radpipe evaluate`` (its metrics say ``seen_by_run``) "NAME on an external test set" (one
    holding cases the run trained on: "NAME on a test set that is NOT external");
    the folder's name when no config names the run. ``radpipe run``, ``radpipe evaluate`` and
    ``radpipe report`` all title a page so, so a rebuilt report keeps its title."""
    import yaml

    try:
        config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        config = None
    name = config.get("name") if isinstance(config, dict) else None
    if not isinstance(name, str) or not name.strip():
        return run.name
    if "seen_by_run" not in metrics:
        return name
    seen = (metrics["seen_by_run"] or {}).get("series_seen_in_training")
    return (
        f"{name} on a test set that is NOT external" if seen else f"{name} on an external test set"
    )


def write_report(run_dir: str | Path, *, title: str | None = None) -> Path:
    """Render ``RUN/report.html`` from what the run directory holds; returns its path.

    Needs ``metrics.json``; uses ``config.yaml``, ``split.csv``, ``index.csv``,
    ``provenance.json``, ``log.jsonl`` and ``plots/*.png`` when present. Missing standard
    plots (confusion matrix, learning curves: one per fold after cross-validation) are
    drawn from ``metrics.json`` and ``log.jsonl`` first. The HTML is self-contained: inline
    CSS, images as data URIs.

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
    logs = run_logs(run)
    _draw_missing_plots(run, metrics, logs)
    html = render_report(run, metrics, logs, title=title or report_title(run, metrics))
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


def run_logs(run: Path) -> dict[str, list[dict[str, Any]]]:
    """The training logs of a run by name: ``{"": rows of RUN/log.jsonl}``, or after
    cross-validation ``{"fold 0": rows of RUN/folds/fold-0/log.jsonl, ...}`` in fold order;
    empty logs are left out."""
    paths = {"": run / "log.jsonl"}
    if not paths[""].is_file():
        folders = [p for p in (run / "folds").glob("fold-*") if p.name[5:].isdigit()]
        folders.sort(key=lambda p: int(p.name[5:]))
        paths = {f"fold {p.name[5:]}": p / "log.jsonl" for p in folders}
    logs = {name: read_log(path) for name, path in paths.items()}
    return {name: rows for name, rows in logs.items() if rows}


def _draw_missing_plots(
    run: Path, metrics: dict[str, Any], logs: dict[str, list[dict[str, Any]]]
) -> None:
    from workflows.report import run_plots

    plot_dir = run / "plots"
    cm = metrics.get("confusion_matrix") or metrics.get("dataset", {}).get("confusion_matrix")
    names = metrics.get("class_names") or [str(i) for i in range(len(cm or []))]
    if cm and not (plot_dir / "confusion_matrix.png").exists():
        unit = run_plots.confusion_unit(metrics)
        run_plots.plot_confusion_matrix(cm, names, plot_dir / "confusion_matrix.png", unit)
    for name, log in logs.items():
        path = plot_dir / f"learning_curves{'_' if name else ''}{name.replace(' ', '_')}.png"
        if not path.exists():
            run_plots.plot_learning_curves(log, path)
