"""Evaluation metrics: pure functions on label maps and scores, plus an accumulator.

Everything overlap-based (Dice, Jaccard, sensitivity, ...) is derived from one confusion
matrix, counted in a single pass over the labels. See :mod:`pipeline.metrics.overlap` for the
empty-mask policy.
"""

from __future__ import annotations

from pipeline.metrics.accumulator import ConfusionAccumulator, torch_all_reduce
from pipeline.metrics.confusion import (
    confusion_matrices,
    confusion_matrix,
    normalize_confusion,
    rates_from_confusion,
)
from pipeline.metrics.overlap import (
    Average,
    EmptyPolicy,
    dice_from_confusion,
    dice_score,
    jaccard_from_confusion,
    jaccard_index,
)
from pipeline.metrics.roc import roc_auc_score, roc_curve
from pipeline.metrics.surface import (
    hausdorff_distance,
    mean_surface_distance,
    surface_distances,
    surface_metrics_per_class,
)

__all__ = [
    "Average",
    "ConfusionAccumulator",
    "EmptyPolicy",
    "confusion_matrices",
    "confusion_matrix",
    "dice_from_confusion",
    "dice_score",
    "hausdorff_distance",
    "jaccard_from_confusion",
    "jaccard_index",
    "mean_surface_distance",
    "normalize_confusion",
    "rates_from_confusion",
    "roc_auc_score",
    "roc_curve",
    "surface_distances",
    "surface_metrics_per_class",
    "torch_all_reduce",
]
