"""Saliency maps for the test cases the report shows, and the weight-randomisation check."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from workflows.run.config import RunConfig

log = logging.getLogger("radpipe")

#: Input elements in one forward pass of the saliency maps when the training batch held
#: fewer: 32 copies of a 256 x 256 image, 2 of a 64 x 128 x 128 volume.
EXPLAIN_ELEMENTS = 2**21


def explain_batch(train_batch_size: int, image_elements: int) -> int:
    """Images per forward pass of the saliency maps (occluded copies, integrated-gradient
    steps): Captum's 32 at most, fewer for large images, never fewer than the training batch
    (which fitted in memory, with gradients).

    >>> explain_batch(8, 28 * 28), explain_batch(1, 64 * 128 * 128), explain_batch(4, 512 * 512)
    (32, 2, 8)
    >>> explain_batch(16, 64 * 128 * 128), explain_batch(64, 28 * 28)
    (16, 32)
    """
    return min(32, max(train_batch_size, EXPLAIN_ELEMENTS // max(1, image_elements)))


def explain_cases(
    config: RunConfig, checkpoint: Path, pred: Any, metrics: dict[str, Any], out: Path
) -> dict[str, Any]:
    """Occlusion and integrated-gradient maps of ``config.evaluate.explain`` shown test cases
    (most confident mistakes, then most confident correct; segmentation: best and worst),
    drawn into ``out/plots/explanations.png``; returns what ``metrics.json`` records.
    """
    from pipeline.explain import METHODS, attribute, randomization_check
    from workflows.report.plots import plot_saliency
    from workflows.train.infer import load_model_from_checkpoint

    model = load_model_from_checkpoint(checkpoint)
    segmentation = config.task == "segmentation"
    batch = explain_batch(config.train.batch_size, pred.images[0].size)
    started = time.perf_counter()
    chosen = _chosen(metrics, pred, config.evaluate.explain, segmentation)
    rows: list[tuple[str, np.ndarray, dict[str, np.ndarray], str]] = []
    cases = []
    for index, target in chosen:
        maps: dict[str, np.ndarray] = {
            m: attribute(
                model,
                pred.images[index],
                target,
                method=m,
                segmentation=segmentation,
                batch_size=batch,
            )
            for m in METHODS
        }
        names = metrics.get("class_names") or []
        name = names[target] if target < len(names) else str(target)
        rows.append((pred.shown(index), pred.images[index], maps, f"evidence for: {name}"))
        cases.append({"id": pred.ids[index], "target": target})
    if not rows:
        return {"cases": []}
    plot_saliency(rows, out / "plots" / "explanations.png")
    index, target = chosen[0]
    checks = [  # the trained model's maps of the first case are made: rows[0]
        randomization_check(model, pred.images[index], target, method=m,
                            segmentation=segmentation, seed=config.seed, batch_size=batch,
                            trained=rows[0][2][m])
        for m in METHODS
    ]  # fmt: skip
    seconds = round(time.perf_counter() - started, 1)
    log.info("saliency maps of %d test cases and their randomisation check: %.1f s "
             "(evaluate.explain: 0 leaves them out)", len(cases), seconds)  # fmt: skip
    return {  # no time here: metrics.json is the same for the same seed, byte for byte
        "batch_size": batch,
        "methods": {
            "occlusion": "Captum Occlusion, an 8 x 8 grid of patches (volumes: through all "
            "slices), baseline 0",
            "integrated_gradients": "Captum IntegratedGradients, zero baseline, 24 steps",
        },
        "model": "the first scored checkpoint",
        "cases": cases,
        "sanity_check": {
            "test": "model parameter randomisation (Adebayo et al. 2018): Spearman correlation "
            "of |attribution| for the trained and a re-initialised model; near 1 means the map "
            "does not depend on what the model learned",
            "case": pred.ids[index],
            "results": checks,
        },
    }


def _chosen(
    metrics: dict[str, Any], pred: Any, n: int, segmentation: bool
) -> list[tuple[int, int]]:
    """``(sample index, target class)`` of the cases to explain."""
    if not segmentation:
        probs = pred.probs
        predicted = probs.argmax(axis=1)
        mistakes = [m["index"] for m in metrics.get("most_confident_mistakes", [])
                    if m["index"] not in pred.hidden]  # fmt: skip
        correct = np.array([i for i in np.flatnonzero(predicted == pred.truth)
                            if i not in pred.hidden], dtype=np.int64)  # fmt: skip
        correct = correct[np.argsort(-probs[correct].max(axis=1), kind="stable")]
        order = mistakes[: (n + 1) // 2] + [int(i) for i in correct]
        return [(i, int(predicted[i])) for i in order[:n]]
    labels = pred.probs.argmax(axis=1)  # (N, *spatial)
    fg = [(int((labels[i] > 0).sum()), i) for i in range(len(pred.ids)) if i not in pred.hidden]
    fg.sort(reverse=True)
    out = []
    for _, i in fg[:n]:
        counts = np.bincount(labels[i].ravel(), minlength=pred.probs.shape[1])
        counts[0] = 0
        out.append((i, int(counts.argmax()) if counts.any() else 0))
    return out
