"""Report figures as PNG files: ROC and precision-recall curves, calibration, overlays (the
confusion matrix and learning curves: :mod:`workflows.report.run_plots`).

matplotlib's object API with the Agg canvas (``Figure`` + ``savefig``), never ``pyplot``: no
global state, no display needed, safe in worker processes. Every writer takes the output path
and returns it; files are written atomically.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from pipeline.io_atomic import atomic_path
from pipeline.metrics import ovr_ranks, roc_auc_score, roc_curve

#: One palette for every figure (colour-blind safe, Okabe & Ito 2008).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
_STYLE: dict[str, Any] = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    if fig.get_layout_engine() is None:  # constrained layout (image grids) lays out itself
        fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


def _one_vs_rest(
    true: Sequence[int] | np.ndarray, probs: np.ndarray, positive: int = 1
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """``(curve index, class, is-that-class (N,) bool, its scores (N,) float64)`` of the
    classes a curve is drawn for: the positive class of two (``positive``), else every class;
    classes with no case are left out."""
    labels = np.asarray(true)
    scores = ovr_ranks(probs)  # as metrics.json ranks them
    classes = [positive] if scores.shape[1] == 2 else list(range(scores.shape[1]))
    for i, c in enumerate(classes):
        is_c = labels == c
        if is_c.any():
            yield i, c, is_c, scores[:, c]


def _title(name: str, class_names: Sequence[str], positive: int, note: str) -> str:
    """A curve figure's title; with two classes its second line names the positive class."""
    if len(class_names) != 2:
        return name
    return f"{name}\n{note or f'positive class: {class_names[positive]}'}"


def plot_roc_curves(
    true: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    positive: int = 1,
    note: str = "",
) -> Path:
    """ROC curve per class (one-vs-rest; two classes: the ``positive`` class only, and the
    title names it, with ``note`` (:func:`workflows.report.positive.title_note`) if given)."""
    fig = Figure(figsize=(4.6, 4.2))
    with _rc():
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], ls="--", lw=1, color="#9ca3af")
        for i, c, is_c, score in _one_vs_rest(true, probs, positive):
            if is_c.all():
                continue  # undefined for this class
            fpr, tpr, _ = roc_curve(is_c, score)
            auc = roc_auc_score(is_c, score)
            ax.plot(fpr, tpr, color=PALETTE[i % 7], label=f"{class_names[c]} (AUC {auc:.3f})")
        ax.set_xlabel("false-positive rate (1 - specificity)")
        ax.set_ylabel("true-positive rate (sensitivity)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_title(_title("ROC", class_names, positive, note))
        _legend_or_undefined(ax, loc="lower right")
        return _save(fig, path)


def plot_overlays(
    cases: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, float]],
    path: str | Path,
    *,
    title: str = "Segmentation overlays",
    class_names: Sequence[str] | None = None,
) -> Path:
    """A row per case: image, truth and prediction, filled by class with a colour legend.

    Parameters
    ----------
    cases
        ``(id, image, true_mask, pred_mask, score)``; image ``(H, W)`` or ``(D, H, W)``, or
        with a channel axis first (one channel: grey; three: colour; more: channel 0, said
        in the title); for volumes the slice with most truth (else prediction) foreground is
        shown.
    class_names
        Names of the classes (background first), for the legend; default ``class 1``, ...
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    rows = max(len(cases), 1)
    fig = Figure(figsize=(11.0, 3.7 * rows + 0.6))
    present = sorted(
        {int(c) for _, _, t, p, _ in cases for c in np.unique(np.r_[t.ravel(), p.ravel()]) if c > 0}
    )
    k = max(present, default=1) + 1
    colours = ListedColormap(["#00000000", *[PALETTE[(c - 1) % 7] for c in range(1, k)]])
    for r, (case_id, image, true, pred, score) in enumerate(cases):
        img, t, p, note = _pick_slice(np.asarray(image), np.asarray(true), np.asarray(pred))
        for col, (mask, name) in enumerate(((None, "image"), (t, "truth"), (p, "prediction"))):
            ax = fig.add_subplot(rows, 3, r * 3 + col + 1)
            ax.imshow(img, cmap="gray", interpolation="nearest")
            if mask is not None and mask.any():
                shown = np.ma.masked_equal(mask, 0)
                ax.imshow(
                    shown, cmap=colours, vmin=0, vmax=k - 1, alpha=0.45, interpolation="nearest"
                )
                for c in np.unique(mask[mask > 0]):
                    ax.contour(
                        mask == c, levels=[0.5], colors=[PALETTE[(int(c) - 1) % 7]], linewidths=1.2
                    )
            ax.set_xticks([])
            ax.set_yticks([])
            label = f"{case_id}  Dice {score:.3f}{note}" if col == 0 else name
            ax.set_title(label, fontsize=9, loc="left")
    names = list(class_names or [])
    handles = [
        Patch(color=PALETTE[(c - 1) % 7], label=names[c] if c < len(names) else f"class {c}")
        for c in (present or [1])
    ]
    fig.legend(
        handles=handles,
        loc="upper right",
        ncol=len(handles),
        frameon=False,
        title="class colours (filled: mask, line: outline)",
    )
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    return _save(fig, path)


def plot_precision_recall(
    true: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    positive: int = 1,
    note: str = "",
) -> Path:
    """Precision-recall curve per class (scikit-learn; two classes: the ``positive`` class
    only, named in the title as by :func:`plot_roc_curves`)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig = Figure(figsize=(4.6, 4.2))
    with _rc():
        ax = fig.add_subplot()
        for i, c, is_c, score in _one_vs_rest(true, probs, positive):
            precision, recall, _ = precision_recall_curve(is_c, score)
            ap = average_precision_score(is_c, score)
            ax.step(
                recall,
                precision,
                where="post",
                color=PALETTE[i % 7],
                label=f"{class_names[c]} (AP {ap:.3f}, prevalence {is_c.mean():.2f})",
            )
        ax.set_xlabel("recall (sensitivity)")
        ax.set_ylabel("precision (PPV)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_title(_title("Precision-recall", class_names, positive, note))
        _legend_or_undefined(ax, loc="lower left", fontsize=7)
        return _save(fig, path)


def _legend_or_undefined(ax: Any, **legend: Any) -> None:
    """The legend of the curves drawn, or, when no class had both positive and negative
    cases (every curve undefined), a note saying so instead of an empty figure."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, **legend)
        return
    ax.text(0.5, 0.5, "undefined: no class has both\npositive and negative cases",
            ha="center", va="center", color="#6b7280")  # fmt: skip


def _reliability_label(calibration: Mapping[str, Any]) -> str:
    """The curve's legend: the ECE of the bins drawn. A binary curve is the positive class's
    probability, whose ECE is not the top-class ECE of ``metrics.json``'s summary (both said)."""
    curve = calibration.get("ece_curve", calibration["ece"])
    ece, brier = f"{calibration['ece']:.3f}", f"Brier {calibration['brier']:.3f}"
    if str(calibration.get("target", "")).startswith("positive class"):
        return f"model (ECE of this curve {curve:.3f}; top-class ECE {ece}; {brier})"
    return f"model (ECE {ece}, {brier})"


def plot_reliability(
    calibration: Mapping[str, Any], path: str | Path, positive: int = 1, note: str = ""
) -> Path:
    """Reliability diagram from :func:`pipeline.metrics.calibration_summary`'s output;
    ``note`` (two classes: which is positive, whose probability is binned; ``positive`` is
    its index, for the same call as the curves') ends the title."""
    bins = calibration["bins"]
    fig = Figure(figsize=(4.6, 4.2))
    with _rc():
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], ls="--", lw=1, color="#9ca3af", label="perfect calibration")
        ax.plot(
            bins["confidence"],
            bins["observed"],
            marker="o",
            color=PALETTE[0],
            label=_reliability_label(calibration),
        )
        for x, y, n in zip(bins["confidence"], bins["observed"], bins["count"]):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
        ax.set_xlabel("predicted probability (bin mean)")
        ax.set_ylabel("observed frequency")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_title("Reliability diagram (numbers: cases per bin)" + (f"\n{note}" if note else ""))
        ax.legend(frameon=False, loc="upper left", fontsize=7)
        return _save(fig, path)


def plot_thumbnails(
    items: Sequence[tuple[str, np.ndarray, str]], path: str | Path, *, title: str
) -> Path:
    """A grid of images ``(id, image, caption)``; volumes show their middle slice."""
    cols = min(4, max(len(items), 1))
    rows = (len(items) + cols - 1) // cols or 1
    fig = Figure(figsize=(3.0 * cols, 3.2 * rows + 0.4), layout="constrained")
    for i, (case_id, image, caption) in enumerate(items):
        ax = fig.add_subplot(rows, cols, i + 1)
        plane, note = _plane(np.asarray(image))
        ax.imshow(plane, cmap="gray", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{case_id}{note}\n{caption}", fontsize=7, loc="left")
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    return _save(fig, path)


def plot_saliency(
    rows: Sequence[tuple[str, np.ndarray, Mapping[str, np.ndarray], str]],
    path: str | Path,
) -> Path:
    """A row per case: the image, then each attribution map overlaid on it.

    ``rows`` holds ``(id, image, {method: attribution}, caption)``; image ``(C, ...)``,
    attribution of the spatial shape. Volumes show the slice with the largest total
    |attribution| of the first method. Red: evidence for the target, blue: against.
    """
    methods = list(rows[0][2]) if rows else []
    cols = 1 + len(methods)
    fig = Figure(figsize=(3.4 * cols, 3.5 * max(len(rows), 1) + 0.3), layout="constrained")
    for r, (case_id, image, maps, caption) in enumerate(rows):
        first = np.asarray(maps[methods[0]])
        img = np.asarray(image)
        img = img[None] if img.ndim == first.ndim else img  # (C, *spatial)
        z = (
            int(np.abs(first).reshape(first.shape[0], -1).sum(1).argmax())
            if first.ndim == 3
            else None
        )
        plane, note = _shown_channels(img[:, z] if z is not None else img)
        ax = fig.add_subplot(len(rows), cols, r * cols + 1)
        ax.imshow(plane, cmap="gray", interpolation="nearest")
        ax.set_title(f"{case_id}{note}\n{caption}", fontsize=8, loc="left")
        for c, method in enumerate(methods, start=2):
            attr = np.asarray(maps[method])
            attr = attr[z] if z is not None and attr.ndim == 3 else attr
            limit = float(np.abs(attr).max()) or 1.0
            ax = fig.add_subplot(len(rows), cols, r * cols + c)
            ax.imshow(plane, cmap="gray", interpolation="nearest")
            ax.imshow(
                attr, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.55, interpolation="nearest"
            )
            ax.set_title(method.replace("_", " "), fontsize=8, loc="left")
        for ax in fig.axes[r * cols : (r + 1) * cols]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(
        "Saliency (red: for the target class, blue: against)", fontsize=10, x=0.01, ha="left"
    )
    return _save(fig, path)


def _plane(image: np.ndarray) -> tuple[np.ndarray, str]:
    """A 2-D view of ``(C, H, W)`` or ``(C, D, H, W)`` (its middle slice), drawn as
    :func:`_shown_channels` says; ``(H, W)`` as it is. It showed the middle channel in grey."""
    while image.ndim > 3:
        image = image[:, image.shape[1] // 2]
    return (image, "") if image.ndim == 2 else _shown_channels(image)


def _pick_slice(
    image: np.ndarray, true: np.ndarray, pred: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """The slice to show (of a volume: the one with most truth, else prediction, foreground)
    and the image as matplotlib draws it, with a note on what is shown of its channels."""
    if image.ndim == true.ndim:
        image = image[None]  # a plain (H, W) or (D, H, W) image: one channel
    if true.ndim == 3:
        area = (true > 0).sum(axis=(1, 2))
        if not area.any():
            area = (pred > 0).sum(axis=(1, 2))
        z = int(np.argmax(area))
        image, true, pred = image[:, z], true[z], pred[z]
    shown, note = _shown_channels(image)
    return shown, true, pred, note


def _shown_channels(image: np.ndarray) -> tuple[np.ndarray, str]:
    """A ``(C, H, W)`` image as drawn: grey for one channel, colour (scaled to [0, 1]
    together, which keeps the hues) for three; of any other count channel 0, said so."""
    channels = image.shape[0]
    if channels == 1:
        return image[0], ""
    if channels == 3:
        rgb = np.moveaxis(image.astype(np.float64), 0, -1)
        lo, hi = float(rgb.min()), float(rgb.max())
        return (rgb - lo) / (hi - lo) if hi > lo else np.zeros_like(rgb), ""
    return image[0], f"  (channel 0 of {channels})"


def _rc() -> AbstractContextManager[None]:
    """The house plot style, within a ``with`` block."""
    import matplotlib

    return matplotlib.rc_context(_STYLE)  # type: ignore[arg-type]
