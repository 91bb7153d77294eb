"""Segmentation scored on the source pixels, as ``radpipe predict`` writes its masks.

A ``resize``, ``resample``, crop or pad changes the grid the model sees, and the truth masks
go through the same stages (nearest neighbour). Scored there, a prediction is compared with a
mask the user never drew, at a resolution that is not the image's: 800x540 fetal-head masks
resized to 128x128 and back lose up to a pixel of 128 (6 source pixels) along every outline,
so model-grid figures can be better or worse than those of the masks the run hands out.

Here each test image's per-class maps (the mean over the fold models, each moved back
through its own fold's geometric stages by :func:`workflows.run.invert.invert`, nearest
neighbour or ``evaluate.upsample: linear`` as ``radpipe predict`` does) are turned into a
label map on the image's own grid, post-processed there (``postprocess``), and compared with
the user's mask as loaded (after ``data.mask_values``), in the source spacing. The figures of
``metrics.json`` are then those of the masks ``radpipe predict`` writes for the same images;
the model-grid figures are kept beside them (``model_grid``) to show what resizing costs.
nnU-Net evaluates the same way, at the original resolution (Isensee et al. 2021, Nature
Methods 18:203).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.metrics import check_finite_scores
from pipeline.metrics._arrays import tied_top
from pipeline.stage import Pipeline

__all__ = ["MODEL_GRID_KEYS", "SourceCase", "on_source", "score_segmentation", "volume_of"]

log = logging.getLogger("radpipe")

#: How the maps were moved back onto the source pixels (``evaluate.upsample``), for
#: ``policy["grid"]``: figures checked by hand differ with the other rule.
_MOVED_BACK = {
    "nearest": "; each class map moved back by nearest neighbour (evaluate.upsample: nearest)",
    "linear": "; the class probabilities resized back linearly, then the argmax "
    "(evaluate.upsample: linear)",
}

#: The headline figures kept from the model-grid scoring (``metrics.json`` ``model_grid``).
MODEL_GRID_KEYS = (
    "dice_case_mean", "dice_dataset_macro", "jaccard_case_mean", "jaccard_dataset_macro",
    "hd95_mean", "msd_mean", "nsd_mean",
)  # fmt: skip


@dataclass
class SourceCase:
    """One evaluated sample on its source grid: ``truth`` ``(*spatial)`` int64 class
    indices as loaded, ``labels`` the same shape, uint8, the argmax of the models' mean
    probabilities (before ``postprocess``), ``spacing`` in mm per axis (``None`` or NaN
    where unknown), and ``ties`` the voxels whose top probability ties between classes (the
    argmax gave them the lower class index)."""

    truth: np.ndarray
    labels: np.ndarray
    spacing: Sequence[float] | None
    ties: int = 0


def on_source(
    dataset: Any,
    preps: Sequence[Pipeline],
    probs: Sequence[np.ndarray],
    order: int = 0,
) -> tuple[list[SourceCase], list[list[SourceCase]]] | None:
    """Every item of ``dataset`` on its source grid: the cases of the mean of the fold
    models and, with more than one, those of each fold model alone; ``None`` when no stage of
    any of ``preps`` changed an item's grid (the model grid is then the source grid).

    Parameters
    ----------
    dataset
        The evaluated :class:`~pipeline.data.SampleDataset` (its ``raw_sample`` is the image
        and mask as loaded, before any stage).
    preps, probs
        Per fold model: its fitted preprocessing and its probabilities ``(N, K, *spatial)``
        on ``dataset`` in model space (the same item order).
    order
        Interpolation of the resizes undone: 0 nearest neighbour, 1 linear (per-class
        probabilities, argmax afterwards).

    Raises
    ------
    RadpipeError
        A geometric stage whose effect cannot be undone (:func:`~workflows.run.invert.traced`).
    """
    from workflows.run.invert import on_source_pixels

    mean: list[SourceCase] = []
    folds: list[list[SourceCase]] = [[] for _ in preps] if len(preps) > 1 else []
    moved = False
    for i in range(len(dataset)):
        raw = dataset.raw_sample(i)
        assert raw.mask is not None
        truth, spacing = np.asarray(raw.mask, np.int64), raw.meta.get("spacing")
        total: np.ndarray | None = None
        for f, (prep, p) in enumerate(zip(preps, probs)):
            back, records = on_source_pixels(np.asarray(p[i], np.float32), prep, raw, order)
            moved |= any(r["in"] != r["out"] or r.get("start") for r in records)
            if folds:
                labels = back.argmax(axis=0).astype(np.uint8)
                folds[f].append(SourceCase(truth, labels, spacing, tied_top(back, axis=0)))
            total = back if total is None else total + back
        assert total is not None
        labels = total.argmax(axis=0).astype(np.uint8)
        mean.append(SourceCase(truth, labels, spacing, tied_top(total, axis=0)))
    return (mean, folds) if moved else None


def score_segmentation(
    config: Any, pred: Any, patients: list[str], intervals: dict[str, Any]
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """``metrics.json``'s segmentation figures for ``pred``
    (:class:`workflows.run.evaluate.Predictions`), and each sample's predicted label map
    after ``postprocess`` on the grid it was scored on (for the overlays).

    On the source pixels when ``pred.source`` holds the cases (:func:`on_source`), with the
    model-grid headline beside them (``model_grid``); else on the model grid, which is then
    the source grid (``grid`` says which). ``intervals`` are the bootstrap settings.

    Raises
    ------
    NonFiniteScoresError
        A probability map holds NaN or infinity (its argmax would be class 0 everywhere: a
        diverged model scored as one that missed every structure).
    """
    from pipeline.postprocess import Postprocess
    from workflows.report.results import SegmentationCase, evaluate_segmentation

    check_finite_scores(pred.probs, "probabilities")
    e, k = config.evaluate, pred.probs.shape[1]
    names = list(config.data.class_names or ["background", *[f"class{i}" for i in range(1, k)]])
    post = Postprocess.from_specs(config.postprocess)
    maps, record = post.apply_all(pred.probs.argmax(axis=1))
    labels = np.stack(maps) if maps else pred.probs.argmax(axis=1)
    for i, region in enumerate(pred.regions):
        if region is not None:  # padding: background in both (see workflows.run.padding)
            labels[i][~region] = 0
            pred.truth[i][~region] = 0

    def case(i: int, true: Any, labels: Any, spacing: Any, region: Any) -> SegmentationCase:
        m = pred.meta[i]
        return SegmentationCase(
            id=pred.ids[i], true=true, pred=labels, spacing=spacing, patient=patients[i],
            series=volume_of(m, pred.ids[i]), slice_index=m.get("slice_index"),
            slice_spacing=m.get("slice_spacing"), region=region,
        )  # fmt: skip

    regions = pred.regions or [None] * len(pred.meta)
    grid = [case(i, pred.truth[i], labels[i], m.get("spacing"), regions[i])
            for i, m in enumerate(pred.meta)]  # fmt: skip
    scoring = {"include_background": e.include_background, "empty": e.empty,
               "failures": e.surface_failures, "nsd_tolerance": e.nsd_tolerance_mm}  # fmt: skip
    if pred.source is None:
        metrics = evaluate_segmentation(grid, k, names, **scoring, **intervals, grid=pred.grid)
        tied = [tied_top(p, axis=0, where=r) for p, r in zip(pred.probs, regions)]
        metrics |= {"grid": pred.grid, "postprocess": record}
        return _say_ties(metrics, tied, names, pred), list(labels)
    source, record = post.apply_all(c.labels for c in pred.source)
    cases = [case(i, c.truth, source[i], c.spacing, None) for i, c in enumerate(pred.source)]
    metrics = evaluate_segmentation(cases, k, names, **scoring, **intervals, grid="source")
    metrics["policy"]["grid"] += _MOVED_BACK[e.upsample]
    on_grid = evaluate_segmentation(grid, k, names, **scoring, **(intervals | {"n_resamples": 0}))
    summary = on_grid["summary"]
    headline = {key: summary[key] for key in MODEL_GRID_KEYS if key in summary}
    metrics |= {
        "grid": "source",
        "model_grid": {
            "summary": headline,
            "distance_unit": on_grid["distance_unit"],
            "note": "the same predictions scored on the preprocessed grid against the truth "
            "masks resized with them (nearest neighbour); the headline figures are on the "
            "source pixels, against the masks as given",
        },
        "postprocess": record,
    }
    return _say_ties(metrics, [c.ties for c in pred.source], names, pred), source


def _say_ties(
    metrics: dict[str, Any], tied: list[int], names: list[str], pred: Any
) -> dict[str, Any]:
    """``metrics`` with ``prediction_ties`` (voxels whose top probability ties between
    classes, over all samples), ``prediction_ties_samples`` and the rule in
    ``policy.prediction`` (the fold models' mean only when ``pred.models`` averaged several:
    a run without folds was said to take "the mean of the fold models"); the ties are said
    once per run, with each fold's, by :func:`workflows.run.ties.say_ties` (the argmax gave
    them the lower class index)."""
    voxels, samples = sum(tied), sum(1 for t in tied if t)
    models = int(getattr(pred, "models", 1))
    mean = f" (the mean of the {models} fold models)" if models > 1 else ""
    rule = (f"argmax of the class probabilities per voxel{mean}, "
            f"before postprocess; a tie is the lower class index ({names[0]} first), as numpy "
            "and torch argmax")  # fmt: skip
    if voxels:
        rule += f": {voxels} voxels in {samples} of {len(tied)} samples"
    metrics["policy"] = {"prediction": rule} | metrics.get("policy", {})
    return metrics | {"prediction_ties": voxels, "prediction_ties_samples": samples}


def volume_of(meta: dict[str, Any], sample_id: str) -> str:
    """The volume a 2-D sample is scored in: its series, unless the series' images are
    separate pictures without geometry (ultrasound, secondary capture: ``unpositioned``), each
    then its own case (stacking them would measure distances across unrelated images)."""
    if meta.get("unpositioned"):
        return sample_id
    return str(meta.get("series_key") or sample_id)
