"""Evaluation of a trained run on its test split: per fold, and the ensemble of the folds.

Each fold's model sees the test images through that fold's own fitted preprocessing; the
ensemble averages the folds' probabilities. Figures are computed in the preprocessed image
space (the masks went through the same geometric stages as the images).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.stage import Pipeline
from workflows.run.config import RunConfig
from workflows.run.study import Study, make_dataset


def evaluate_run(
    config: RunConfig, study: Study, run_dir: Path, checkpoints: list[Path]
) -> dict[str, Any]:
    """Write ``metrics.json`` and the evaluation plots; return the metrics."""
    from workflows.report.results import write_metrics
    from workflows.run.rundir import fold_dir

    test_keys = [r["series_key"] for r in study.split if r["split"] == "test"]
    if not test_keys:
        raise RadpipeError("The test split is empty; set split.test > 0 to evaluate.")
    folds: list[int | None] = list(range(len(checkpoints))) if config.split.folds else [None]
    per_fold, probs_all = [], []
    truth: Any = None
    for fold, ckpt in zip(folds, checkpoints):
        prep = Pipeline.load(fold_dir(run_dir, fold) / "stages")
        dataset = make_dataset(study, config, test_keys, prep, folder=fold_dir(run_dir, fold))
        probs, truth_f, ids, images, spacings = _predict(config, ckpt, dataset)
        truth = truth_f if truth is None else truth
        probs_all.append(probs)
        if fold is not None:
            per_fold.append(_score(config, study, truth_f, probs, ids, images, spacings, None))
    mean_probs = np.mean(probs_all, axis=0)
    metrics = _score(config, study, truth, mean_probs, ids, images, spacings, run_dir / "plots")
    if per_fold:
        metrics["folds"] = [m["summary"] for m in per_fold]
        metrics["cross_validation"] = _spread([m["summary"] for m in per_fold])
        metrics["evaluated"] = f"ensemble of {len(per_fold)} fold models on the test split"
    else:
        metrics["evaluated"] = "best checkpoint on the test split"
    write_metrics(run_dir / "metrics.json", metrics)
    return metrics


def predict_with_checkpoint(config: RunConfig, checkpoint: Path, dataset: Any) -> np.ndarray:
    """Probabilities of a run's saved model on ``dataset``, with the run's batch size,
    test-time flip setting and device."""
    from workflows.train.infer import load_model_from_checkpoint, predict

    model = load_model_from_checkpoint(checkpoint)
    return predict(
        model,
        dataset,
        batch_size=config.train.batch_size,
        tta_flip=config.evaluate.tta_flip,
        device=config.train.device,
    )


def _predict(
    config: RunConfig, checkpoint: Path, dataset: Any
) -> tuple[np.ndarray, np.ndarray, list[str], list[np.ndarray], list[Any]]:
    probs = predict_with_checkpoint(config, checkpoint, dataset)
    samples = [dataset.sample(i) for i in range(len(dataset))]
    if config.task == "classification":
        truth = np.array([s.label for s in samples], dtype=np.int64)
    else:
        truth = np.stack([s.mask for s in samples]).astype(np.int64)
    spacings = [_spacing(s.meta.get("spacing"), s.mask) for s in samples]
    return probs, truth, [s.id for s in samples], [s.image for s in samples], spacings


def _spacing(spacing: Any, mask: np.ndarray | None) -> tuple[float, ...] | None:
    """The sample's spacing in mm when fully known (NaN slice gaps of stacked series: None)."""
    if spacing is None or mask is None or len(spacing) != mask.ndim:
        return None
    values = tuple(float(v) for v in spacing)
    return values if all(np.isfinite(values)) else None


def _score(
    config: RunConfig,
    study: Study,
    truth: np.ndarray,
    probs: np.ndarray,
    ids: list[str],
    images: list[np.ndarray],
    spacings: list[Any],
    plots: Path | None,
) -> dict[str, Any]:
    from workflows.report import plots as plotting
    from workflows.report.results import evaluate_classification, evaluate_segmentation

    if config.task == "classification":
        metrics = evaluate_classification(truth, probs, study.class_names, ids=ids)
        if plots is not None:
            plotting.plot_roc_curves(truth, probs, study.class_names, plots / "roc.png")
        return metrics
    k = probs.shape[1]
    names = list(config.data.class_names or ["background", *[f"class{i}" for i in range(1, k)]])
    pred = probs.argmax(axis=1)
    cases = [(ids[i], truth[i], pred[i], spacings[i]) for i in range(len(ids))]
    metrics = evaluate_segmentation(
        cases,
        k,
        names,
        include_background=config.evaluate.include_background,
        empty=config.evaluate.empty,
    )
    if plots is not None and config.report.overlays:
        _overlays(metrics, truth, pred, ids, images, config.report.overlays, plots)
    return metrics


def _overlays(
    metrics: dict[str, Any],
    truth: np.ndarray,
    pred: np.ndarray,
    ids: list[str],
    images: list[np.ndarray],
    n: int,
    plots: Path,
) -> None:
    from workflows.report.plots import plot_overlays

    scores = [
        (row["dice_macro"], i)
        for i, row in enumerate(metrics["per_case"])
        if row["dice_macro"] is not None and np.isfinite(row["dice_macro"])
    ]
    scores.sort()
    half = max(1, n // 2)
    chosen = scores[-half:][::-1] + [s for s in scores[:half] if s not in scores[-half:]]
    cases = [(ids[i], images[i], truth[i], pred[i], float(d)) for d, i in chosen]
    if cases:
        plot_overlays(cases, plots / "overlays.png", title="Best and worst test cases")


def _spread(summaries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in summaries[0]:
        values = np.array([s.get(key) for s in summaries], dtype=np.float64)
        if np.isfinite(values).any():
            out[key] = {
                "mean": float(np.nanmean(values)),
                "std": float(np.nanstd(values)),
                "min": float(np.nanmin(values)),
                "max": float(np.nanmax(values)),
            }
    return out
