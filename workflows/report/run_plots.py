"""The confusion matrix and the learning curves of a run's report, each saying its unit.

The confusion matrix counts cases for a classification and pixels (2-D images) or voxels
(volumes) for a segmentation: its title names which, as ``1677865`` pooled pixels read as
cases otherwise. The learning curves step in whole epochs (matplotlib's default ticks put a
3-epoch run at 1.25, 1.5, ...) and label the validation metrics as the fractions they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline.metrics import normalize_confusion
from workflows.report.plots import PALETTE, _rc, _save

__all__ = [
    "confusion_figure", "confusion_unit", "learning_curves_figure", "plot_confusion_matrix",
    "plot_learning_curves",
]  # fmt: skip


def confusion_unit(metrics: Mapping[str, Any]) -> str:
    """What a ``metrics.json``'s confusion matrix counts: ``cases`` (classification), or for a
    segmentation its ``dataset.confusion_matrix_unit`` (``pixels``/``voxels``; ``voxels`` in
    files written before it was recorded)."""
    if metrics.get("task") != "segmentation":
        return "cases"
    return str(metrics.get("dataset", {}).get("confusion_matrix_unit") or "voxels")


def confusion_figure(
    cm: np.ndarray | Sequence[Sequence[int]], class_names: Sequence[str], unit: str = "cases"
) -> Figure:
    """Heat map of a confusion matrix: colour = row-normalised rate, text = count and rate;
    the title names what is counted (``unit``)."""
    counts = np.asarray(cm, dtype=np.int64)
    rates = normalize_confusion(counts, by="true")
    k = counts.shape[0]
    size = 2.2 + 0.55 * k
    fig = Figure(figsize=(size + 0.8, size))
    ax = fig.add_subplot()
    image = ax.imshow(np.nan_to_num(rates), cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of true class")
    for i in range(k):
        for j in range(k):
            colour = "white" if np.nan_to_num(rates[i, j]) > 0.6 else "#1f2937"
            rate = "" if np.isnan(rates[i, j]) else f"\n{rates[i, j]:.0%}"
            ax.text(j, i, f"{counts[i, j]}{rate}", ha="center", va="center", color=colour)
    ax.set_xticks(range(k), list(class_names), rotation=30, ha="right")
    ax.set_yticks(range(k), list(class_names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix (counts of {unit})")
    return fig


def plot_confusion_matrix(
    cm: np.ndarray | Sequence[Sequence[int]],
    class_names: Sequence[str],
    path: str | Path,
    unit: str = "cases",
) -> Path:
    """:func:`confusion_figure` saved as a PNG at ``path``."""
    return _save(confusion_figure(cm, class_names, unit), path)


def learning_curves_figure(log: Sequence[Mapping[str, Any]]) -> Figure:
    """Losses (left) and validation metrics (right, fractions) per epoch, from ``log.jsonl``
    rows; epochs are ticked in whole numbers."""
    epochs = [row.get("epoch", i) for i, row in enumerate(log)]
    metric_keys = sorted(
        {k for row in log for k in row if k.startswith("val_") and k != "val_loss"}
    )
    fig = Figure(figsize=(9, 3.4) if metric_keys else (5, 3.4))
    with _rc():
        loss_ax = fig.add_subplot(1, 2 if metric_keys else 1, 1)
        for i, key in enumerate(("train_loss", "val_loss")):
            xs, ys = _series(log, epochs, key)
            if xs:
                loss_ax.plot(xs, ys, marker="o", ms=3, color=PALETTE[i], label=key)
        loss_ax.set_ylabel("loss")
        loss_ax.set_title("Loss")
        loss_ax.legend(frameon=False)
        axes = [loss_ax]
        if metric_keys:
            metric_ax = fig.add_subplot(1, 2, 2)
            for i, key in enumerate(metric_keys):
                xs, ys = _series(log, epochs, key)
                metric_ax.plot(xs, ys, marker="o", ms=3, color=PALETTE[(i + 2) % 7], label=key)
            metric_ax.set_ylabel("fraction (0-1)")
            metric_ax.set_title("Validation metrics")
            metric_ax.legend(frameon=False)
            axes.append(metric_ax)
        for ax in axes:
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def plot_learning_curves(log: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """:func:`learning_curves_figure` saved as a PNG at ``path``."""
    with _rc():
        return _save(learning_curves_figure(log), path)


def _series(
    log: Sequence[Mapping[str, Any]], epochs: Sequence[Any], key: str
) -> tuple[list[Any], list[float]]:
    pairs = [
        (e, float(row[key])) for e, row in zip(epochs, log, strict=True) if row.get(key) is not None
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]
