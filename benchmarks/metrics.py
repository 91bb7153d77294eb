"""Benchmark: Dice + Jaccard + confusion matrix, radpipe vs MONAI, torchmetrics, scikit-learn.

Two workloads, both 4 classes of uint8 labels:
  volume  one 256^3 volume (16.8 M voxels), dataset-level figures;
  batch   64 masks of 256x256 (4.2 M pixels), per-case figures.
Each tool computes per-class Dice, per-class Jaccard and the confusion matrix from the same
labels, starting from what a user holds (uint8 numpy arrays): conversions a tool needs
(one-hot, int64 tensors) are part of its time. "read once" is the floor: one pass over both
label arrays (``true.sum() + pred.sum()``).

Every (tool, workload) pair runs in a fresh subprocess, so peak memory is that process's
extra resident memory over the input data (``ru_maxrss`` after minus before), which also
counts torch's allocations, unlike tracemalloc. Times are the best of several repeats.

Run: ``.venv/bin/python benchmarks/metrics.py`` (about two minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

K = 4
SHAPES = {"volume": (1, 256, 256, 256), "batch": (64, 256, 256)}
TOOLS = ["read once", "radpipe", "MONAI", "torchmetrics", "scikit-learn"]
REPEATS = {"read once": 10, "radpipe": 5, "MONAI": 2, "torchmetrics": 3, "scikit-learn": 1}


def make_labels(workload: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    shape = SHAPES[workload]
    true = rng.integers(0, K, shape, dtype=np.uint8)
    noise = rng.integers(0, K, shape, dtype=np.uint8)
    pred = np.where(rng.random(shape, dtype=np.float32) < 0.8, true, noise).astype(np.uint8)
    return true, pred


def run_read(true: np.ndarray, pred: np.ndarray, per_case: bool) -> Any:
    return int(true.sum()) + int(pred.sum())


def run_radpipe(true: np.ndarray, pred: np.ndarray, per_case: bool) -> Any:
    from pipeline.metrics import (
        confusion_matrices,
        confusion_matrix,
        dice_from_confusion,
        jaccard_from_confusion,
    )

    cms = confusion_matrices(true, pred, K) if per_case else confusion_matrix(true, pred, K)[None]
    dice = [dice_from_confusion(cm, average="none") for cm in cms]
    jac = [jaccard_from_confusion(cm, average="none") for cm in cms]
    return cms.sum(0), dice, jac


def run_monai(true: np.ndarray, pred: np.ndarray, per_case: bool) -> Any:
    import torch
    from monai.metrics import DiceMetric, MeanIoU, get_confusion_matrix

    def one_hot(x: np.ndarray) -> torch.Tensor:  # (B, *S) -> (B, K, *S)
        t = torch.from_numpy(x).long()
        return torch.nn.functional.one_hot(t, K).movedim(-1, 1).float()

    y_pred, y = one_hot(pred), one_hot(true)
    dice = DiceMetric(include_background=True, reduction="none")(y_pred, y)
    iou = MeanIoU(include_background=True, reduction="none")(y_pred, y)
    cm = get_confusion_matrix(y_pred, y, include_background=True)  # (B, K, [tp, fp, tn, fn])
    return dice, iou, cm


def run_torchmetrics(true: np.ndarray, pred: np.ndarray, per_case: bool) -> Any:
    import torch
    from torchmetrics.functional.classification import (
        multiclass_confusion_matrix,
        multiclass_f1_score,
        multiclass_jaccard_index,
    )

    t, p = torch.from_numpy(true).long(), torch.from_numpy(pred).long()
    if per_case:  # per-sample Dice/IoU: samplewise F1, one Jaccard call per case
        dice = multiclass_f1_score(p, t, K, average="none", multidim_average="samplewise")
        iou = [multiclass_jaccard_index(p[i], t[i], K, average="none") for i in range(len(t))]
    else:
        dice = multiclass_f1_score(p.ravel(), t.ravel(), K, average="none")
        iou = multiclass_jaccard_index(p.ravel(), t.ravel(), K, average="none")
    cm = multiclass_confusion_matrix(p.ravel(), t.ravel(), K)
    return dice, iou, cm


def run_sklearn(true: np.ndarray, pred: np.ndarray, per_case: bool) -> Any:
    from sklearn.metrics import confusion_matrix

    from pipeline.metrics import dice_from_confusion, jaccard_from_confusion

    cases = [(true[i], pred[i]) for i in range(len(true))] if per_case else [(true, pred)]
    cms = [confusion_matrix(t.ravel(), p.ravel(), labels=range(K)) for t, p in cases]
    return [(dice_from_confusion(cm, average="none"), jaccard_from_confusion(cm)) for cm in cms]


RUNNERS: dict[str, Callable[[np.ndarray, np.ndarray, bool], Any]] = {
    "read once": run_read,
    "radpipe": run_radpipe,
    "MONAI": run_monai,
    "torchmetrics": run_torchmetrics,
    "scikit-learn": run_sklearn,
}


def measure(tool: str, workload: str) -> dict[str, float]:
    """Run in the current (fresh) process; returns best time and peak extra memory."""
    true, pred = make_labels(workload)
    per_case = workload == "batch"
    data = true if workload == "batch" else true[0]
    data_pred = pred if workload == "batch" else pred[0]
    RUNNERS[tool](data[:1], data_pred[:1], per_case)  # imports and warm-up, off the clock
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(REPEATS[tool]):
        start = time.perf_counter()
        RUNNERS[tool](data, data_pred, per_case)
        times.append(time.perf_counter() - start)
    after_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"time_s": min(times), "peak_extra_mib": (after_kib - before_kib) / 1024}


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
        return 0
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    print("| workload | tool | time (ms) | x read once | peak extra memory (MiB) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for workload in SHAPES:
        floor = None
        for tool in TOOLS:
            proc = subprocess.run(
                [sys.executable, __file__, "--one", tool, workload],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                print(f"| {workload} | {tool} | failed: {proc.stderr.strip()[-200:]} | | |")
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            ms = result["time_s"] * 1000
            floor = floor or ms
            print(
                f"| {workload} | {tool} | {ms:,.1f} | {ms / floor:,.1f} | "
                f"{result['peak_extra_mib']:,.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
