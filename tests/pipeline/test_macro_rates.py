"""Macro means of the one-vs-rest rates when a class is never predicted, or predicted but
never in the truth (scikit-learn and torchmetrics count the undefined rate as 0 there)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as sklearn_metrics

from pipeline.metrics import confusion_matrix, rates_from_confusion

# class 2 is in the truth (3 cases) but never predicted
NEVER_PREDICTED = (
    np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2]),
    np.array([0, 0, 0, 1, 1, 1, 0, 0, 1, 1]),
)
# class 2 is predicted once but never in the truth
NEVER_TRUE = (np.array([0, 0, 0, 1, 1, 1]), np.array([0, 2, 0, 1, 1, 0]))


def _sklearn(true: np.ndarray, pred: np.ndarray, fn: str) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UndefinedMetricWarning: the 0 is what we compare
        return float(getattr(sklearn_metrics, fn)(true, pred, average="macro", zero_division=0))


def test_precision_macro_counts_a_class_never_predicted_as_zero() -> None:
    true, pred = NEVER_PREDICTED
    r = rates_from_confusion(confusion_matrix(true, pred, 3))
    # by hand: precision 3/5, 2/5, undefined (0) -> 1/3; it was (3/5 + 2/5) / 2 = 0.5
    assert math.isnan(r["precision"][2])  # type: ignore[index]
    assert r["precision_macro"] == pytest.approx(1 / 3)
    assert r["precision_macro"] == pytest.approx(_sklearn(true, pred, "precision_score"))
    assert r["sensitivity_macro"] == pytest.approx(_sklearn(true, pred, "recall_score"))
    assert r["f1_macro"] == pytest.approx(_sklearn(true, pred, "f1_score"))


def test_sensitivity_macro_counts_a_class_never_in_the_truth_as_zero() -> None:
    true, pred = NEVER_TRUE
    r = rates_from_confusion(confusion_matrix(true, pred, 3))
    # by hand: sensitivity 2/3, 2/3, undefined (0) -> 4/9; it was 2/3
    assert r["sensitivity_macro"] == pytest.approx(4 / 9)
    assert r["sensitivity_macro"] == pytest.approx(_sklearn(true, pred, "recall_score"))
    assert r["precision_macro"] == pytest.approx(_sklearn(true, pred, "precision_score"))
    # balanced accuracy stays over the classes in the truth (scikit-learn's definition)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert r["balanced_accuracy"] == pytest.approx(
            sklearn_metrics.balanced_accuracy_score(true, pred)
        )


@pytest.mark.parametrize(
    "case", [NEVER_PREDICTED, NEVER_TRUE], ids=["never-predicted", "never-true"]
)
def test_macro_rates_agree_with_torchmetrics(case: tuple[np.ndarray, np.ndarray]) -> None:
    torch = pytest.importorskip("torch")
    tm = pytest.importorskip("torchmetrics.classification")
    true, pred = case
    r = rates_from_confusion(confusion_matrix(true, pred, 3))
    t, p = torch.as_tensor(true), torch.as_tensor(pred)
    for name, metric in (
        ("precision", tm.MulticlassPrecision),
        ("sensitivity", tm.MulticlassRecall),
        ("specificity", tm.MulticlassSpecificity),
        ("f1", tm.MulticlassF1Score),
    ):
        expected = float(metric(num_classes=3, average="macro")(p, t))
        assert r[f"{name}_macro"] == pytest.approx(expected, abs=1e-6), name


def test_a_class_in_neither_truth_nor_prediction_is_left_out() -> None:
    r = rates_from_confusion(np.array([[3, 1, 0], [1, 2, 0], [0, 0, 0]]))
    assert r["precision_macro"] == pytest.approx((3 / 4 + 2 / 3) / 2)
    assert math.isnan(rates_from_confusion(np.zeros((2, 2)))["precision_macro"])
