"""Evaluation metrics: pure functions on label maps and scores, plus an accumulator.

Everything overlap-based (Dice, Jaccard, sensitivity, ...) is derived from one confusion
matrix, counted in a single pass over the labels. See :mod:`pipeline.metrics.overlap` for the
empty-mask policy.
"""

from __future__ import annotations

from pipeline.metrics._arrays import NonFiniteScoresError, check_finite_scores
from pipeline.metrics.accumulator import ConfusionAccumulator, torch_all_reduce
from pipeline.metrics.calibration import (
    calibration_summary,
    choose_threshold,
    expected_calibration_error,
    precision_recall,
)
from pipeline.metrics.confusion import (
    confusion_matrices,
    confusion_matrix,
    macro_classes,
    normalize_confusion,
    rates_from_confusion,
)
from pipeline.metrics.intervals import BOOTSTRAP_METHOD, bootstrap_ci, bootstrap_cis, delong_roc_ci
from pipeline.metrics.overlap import (
    Average,
    EmptyPolicy,
    dice_from_confusion,
    dice_score,
    jaccard_from_confusion,
    jaccard_index,
)
from pipeline.metrics.roc import ovr_ranks, roc_auc_score, roc_curve, undefined_auc_reason
from pipeline.metrics.surface import (
    FailurePolicy,
    hausdorff_distance,
    image_diagonal,
    mean_surface_distance,
    summarize_distances,
    surface_distances,
    surface_metrics_per_class,
)
from pipeline.metrics.surface_dice import normalized_surface_dice, surface_dice_per_class

__all__ = [
    "BOOTSTRAP_METHOD",
    "Average",
    "ConfusionAccumulator",
    "EmptyPolicy",
    "FailurePolicy",
    "NonFiniteScoresError",
    "bootstrap_ci",
    "bootstrap_cis",
    "calibration_summary",
    "check_finite_scores",
    "choose_threshold",
    "confusion_matrices",
    "confusion_matrix",
    "delong_roc_ci",
    "dice_from_confusion",
    "dice_score",
    "expected_calibration_error",
    "hausdorff_distance",
    "image_diagonal",
    "jaccard_from_confusion",
    "jaccard_index",
    "macro_classes",
    "mean_surface_distance",
    "normalize_confusion",
    "normalized_surface_dice",
    "ovr_ranks",
    "precision_recall",
    "rates_from_confusion",
    "roc_auc_score",
    "roc_curve",
    "summarize_distances",
    "surface_dice_per_class",
    "surface_distances",
    "surface_metrics_per_class",
    "torch_all_reduce",
    "undefined_auc_reason",
]
