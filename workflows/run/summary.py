"""What was scored: the model summary (checkpoint, epoch, architecture, parameter count,
training length, early stop, wall time, device) for ``metrics.json`` and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from workflows.run.paths import relative_or_name

#: A figure of the printed headline: a fraction or distance, a count, or undefined (None).
Figure = float | int | None

_HEADLINE_KEYS = (
    "accuracy",
    "balanced_accuracy",
    "sensitivity",  # two classes: of the positive class
    "specificity",
    "roc_auc_macro",
    "f1_macro",
    "dice_case_mean",
    "jaccard_case_mean",
    "dice_dataset_macro",
    "hd95_mean",
    "nsd_mean",
)


def headline(metrics: dict[str, Any]) -> dict[str, Figure]:
    """The few figures ``radpipe run`` and ``radpipe evaluate`` print at the end.

    Each headline key of the summary (of the ensemble after cross-validation) in its order:
    a float, or ``None`` when it is undefined (null or NaN: ROC AUC with a class absent
    from the test cases, HD95 when every case failed), never left out. ``hd95_mean`` is
    renamed with its unit (``hd95_mean_mm``, ``hd95_mean_voxel``) and followed by
    ``hd95_failed`` (``hd95_failed_as_diagonal`` when the failures are scored as the image
    diagonal, in the mean); ``dice_case_absent`` follows when it is not 0. Both are counts (int).
    ``nsd_mean`` is named with its tolerance (``nsd_mean_at_2mm``).
    """
    summary = metrics.get("summary", {})
    out: dict[str, Figure] = {}
    for key, value in summary.items():
        if key not in _HEADLINE_KEYS:
            continue
        number = float(value) if isinstance(value, int | float) else None
        defined = number is not None and not np.isnan(number)
        if key == "hd95_mean":  # a distance is never printed without its unit and failures
            out[f"hd95_mean_{metrics.get('distance_unit', 'mm')}"] = number if defined else None
            out[_failed_key(metrics)] = int(summary.get("hd95_failed") or 0)
        elif key == "nsd_mean":  # never without its tolerance: nsd_mean_at_2mm
            tolerance = metrics.get("nsd_tolerance_mm")
            out[f"nsd_mean_at_{tolerance:g}mm"] = number if defined else None
        else:
            out[key] = number if defined else None
    if summary.get("dice_case_absent"):  # cases left out of dice_case_mean, never unsaid
        out["dice_case_absent"] = int(summary["dice_case_absent"])
    return out


def _failed_key(metrics: dict[str, Any]) -> str:
    """``hd95_failed``, or ``hd95_failed_as_diagonal`` under ``evaluate.surface_failures:
    diagonal``: there the failures are in the mean, scored as the image diagonal, where by
    default they are left out of it; the line read alike for both (``hd95_mean_mm 30.500
    hd95_failed 2``, a mean with its failures left out as far as it said)."""
    policy = (metrics.get("policy") or {}).get("surface_failure_policy")
    return "hd95_failed_as_diagonal" if policy == "diagonal" else "hd95_failed"


def undefined_reasons(metrics: dict[str, Any]) -> list[str]:
    """Why headline figures are undefined (``metrics.json``'s ``undefined_metrics``, of the
    ensemble after cross-validation), to print under the figures; ``[]`` when none is."""
    return [str(why) for why in (metrics.get("undefined_metrics") or {}).values()]


def printed_notes(metrics: dict[str, Any]) -> list[str]:
    """The lines printed under the headline figures: why any is undefined
    (:func:`undefined_reasons`), what a cross-validated run's figures are of (its folds'
    ensemble, which the line did not say), and for segmentation scored on the source pixels the same
    figures on the preprocessed grid (``model_grid``)."""
    notes = undefined_reasons(metrics)
    if folds := len(metrics.get("folds") or []):  # not fold 0's alone: unsaid until 12-03
        notes.append(f"(figures of the ensemble of the {folds} fold models; each fold model's "
                     "own: metrics.json folds and cross_validation)")  # fmt: skip
    grid = metrics.get("model_grid")
    if grid:
        figures = grid.get("summary", {})
        shown = "  ".join(f"{k} {figures[k]:.3f}" for k in ("dice_case_mean", "dice_dataset_macro")
                          if isinstance(figures.get(k), float))  # fmt: skip
        notes.append(f"(scored on the source pixels; on the preprocessed grid: {shown})")
    return notes


def headline_text(figures: dict[str, Figure], positive_class: str | None = None) -> str:
    """``figures`` as one line: ``accuracy 0.812  roc_auc_macro undefined  hd95_failed 2``
    (fractions and distances to 3 decimals, counts as whole numbers). ``positive_class``
    (:func:`positive_class_of`) is named after the last of sensitivity and specificity:
    ``sensitivity 0.800  specificity 0.600 (positive class: benign; called by argmax)``;
    without it a reader took the sensitivity of class 1 (BreastMNIST's benign) for that of the
    disease. Both are of classes called by the higher probability, not at the report's
    operating point (chosen on validation), which the line says."""

    def shown(value: Figure) -> str:
        if value is None:
            return "undefined"
        return str(value) if isinstance(value, int) else f"{value:.3f}"

    parts = [f"{key} {shown(value)}" for key, value in figures.items()]
    binary = [k for k, key in enumerate(figures) if key in ("sensitivity", "specificity")]
    if positive_class is not None and binary:
        parts[binary[-1]] += f" (positive class: {positive_class}; called by argmax)"
    return "  ".join(parts)


def positive_class_of(metrics: dict[str, Any]) -> str | None:
    """The class whose sensitivity and specificity the headline gives (two classes), as
    ``metrics.json``'s ``positive_class`` names it, with ``(by default: class 1, not ...)``
    when nothing chose it (:func:`workflows.report.classification.positive_class_said`);
    ``None`` for other tasks."""
    from workflows.report.positive import positive_class_said

    return positive_class_said(metrics)


def model_summary(
    run_dir: Path, folds: list[int | None], checkpoints: list[Path]
) -> dict[str, Any]:
    """One entry per scored checkpoint, read from the checkpoint, ``train_done.json`` and
    ``log.jsonl`` of its fold.

    Returns
    -------
    dict
        ``checkpoints``: a list of dicts with ``fold``, ``checkpoint`` (path relative to the
        run directory), ``epoch`` (the epoch whose weights were scored), ``architecture``
        (the registered model type), ``parameters`` (count), ``trainable_parameters``,
        ``epochs_run``, ``best_epoch``, ``stopped_early`` and ``device``. Wall time is not
        here (metrics.json is identical for identical runs); the report adds it from
        ``log.jsonl``.
    """
    from workflows.run.rundir import fold_dir
    from workflows.train.checkpoint import load_checkpoint
    from workflows.train.infer import load_model_from_checkpoint

    entries = []
    for fold, ckpt in zip(folds, checkpoints):
        folder = fold_dir(run_dir, fold)
        payload = load_checkpoint(ckpt)
        model = load_model_from_checkpoint(ckpt)
        done = _read_json(folder / "train_done.json")
        log_rows = _read_log(folder / "log.jsonl")
        entries.append(
            {
                "fold": fold,
                "checkpoint": relative_or_name(ckpt, run_dir),
                "epoch": payload.get("epoch"),
                "architecture": (payload.get("model_spec") or {}).get("type"),
                "parameters": sum(p.numel() for p in model.parameters()),
                "trainable_parameters": sum(
                    p.numel() for p in model.parameters() if p.requires_grad
                ),
                "epochs_run": done.get("epochs", log_rows[-1].get("epoch") if log_rows else None),
                "best_epoch": done.get("best_epoch"),
                "averaged_epochs": (payload.get("averaged") or {}).get("epochs"),
                "stopped_early": done.get("stopped_early"),
                "device": done.get("device"),
            }
        )
    return {"checkpoints": entries}


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _read_log(path: Path) -> list[dict[str, Any]]:
    from workflows.report.results import read_log

    return read_log(path)


def data_summary(
    pred: Any, class_names: list[str], task: str, manifest: Path | None
) -> dict[str, Any]:
    """What was evaluated: image sizes and spacings after preprocessing, modalities, classes.

    Returns
    -------
    dict
        ``num_samples``, ``image_shapes`` and ``spacings`` (``{value: count}``; spacing in mm
        per axis, ``"unknown"`` where a sample has none or a NaN axis), ``modalities``
        (``{Modality: series}``, from the conversion manifest), ``classes``: per class name
        the count of cases (classification) or of samples containing it and its mean voxel
        fraction (segmentation; the fraction of each sample's image voxels, what
        ``crop_or_pad``/``fit_depth`` padded left out: ``pred.regions``).
    """
    from collections import Counter

    shapes = Counter("x".join(str(n) for n in np.shape(img)) for img in pred.images)
    spacings = Counter(_spacing_text(m.get("spacing")) for m in pred.meta)
    series = {str(m.get("series_key") or i) for i, m in zip(pred.ids, pred.meta)}
    modalities: Counter[str] = Counter()
    if manifest is not None and manifest.is_file():
        from pipeline.data.io import read_manifest

        seen = {(r["series_key"], r["modality"]) for r in read_manifest(manifest)}
        modalities = Counter(mod or "unknown" for key, mod in seen if key in series)
    classes: dict[str, dict[str, Any]] = {}
    regions = list(getattr(pred, "regions", None) or []) or [None] * len(pred.truth)
    imaged = [t if r is None else t[r] for t, r in zip(pred.truth, regions)]  # padding aside
    for c, name in enumerate(class_names):
        if task == "classification":
            count = int((pred.truth == c).sum())
            classes[name] = {"cases": count, "prevalence": count / max(len(pred.truth), 1)}
        else:
            has = [(t == c).any() for t in pred.truth]
            classes[name] = {
                "samples_containing": int(sum(has)),
                "mean_voxel_fraction": float(np.mean([(t == c).mean() for t in imaged])),
            }
    return {
        "num_samples": len(pred.ids),
        "image_shapes": dict(shapes),
        "spacings": dict(spacings),
        "modalities": dict(modalities),
        "classes": classes,
    }


def _spacing_text(spacing: Any) -> str:
    if not spacing:
        return "unknown"
    values = [float(v) for v in spacing]
    if not all(np.isfinite(values)):
        return (
            "unknown (" + " x ".join("?" if not np.isfinite(v) else f"{v:g}" for v in values) + ")"
        )
    return " x ".join(f"{v:.4g}" for v in values) + " mm"
