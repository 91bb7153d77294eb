"""Calibration and precision-recall take a binary classifier's ``(N,)`` positive-class
probabilities as scikit-learn does (they failed with numpy's "axis 1 is out of bounds" /
"tuple index out of range"), and refuse wrong shapes in words. Expected values: scikit-learn
on the same inputs, and the ECE worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss

from pipeline.metrics import calibration_summary, expected_calibration_error, precision_recall

TRUTH = np.array([0, 0, 1, 1, 1, 0])
P1 = np.array([0.1, 0.5, 0.5, 0.9, 0.5, 0.2])  # probability of class 1


def test_one_column_of_positive_class_probabilities() -> None:
    ap = precision_recall(TRUTH, P1)
    assert ap["average_precision"] == {1: pytest.approx(average_precision_score(TRUTH, P1))}
    assert calibration_summary(TRUTH, P1)["brier"] == pytest.approx(brier_score_loss(TRUTH, P1))
    # top-class confidences 0.9 0.5 0.5 0.9 0.5 0.8, right 1 1 0 1 0 1 (a 0.5/0.5 row is
    # class 0): bins 0.5 (3 cases, 1 right: 3 x 1/6), 0.8 (0.2), 0.9 (2 x 0.1) -> 0.9 / 6
    assert expected_calibration_error(TRUTH, P1) == pytest.approx(0.15)
    assert expected_calibration_error(TRUTH, np.c_[1 - P1, P1]) == pytest.approx(0.15)
    # positive class 0: the column is class 0's probability
    q = 1 - P1
    ap0 = precision_recall(TRUTH, q, positive=0)["average_precision"]
    assert ap0 == {0: pytest.approx(average_precision_score(TRUTH == 0, q))}
    summary = calibration_summary(TRUTH, q, positive=0)
    assert summary["brier"] == pytest.approx(brier_score_loss(TRUTH == 0, q))


@pytest.mark.parametrize(
    ("probs", "said"),
    [
        (np.array([-2.0, 0.3, 1.5, 0.2, 0.1, 0.9]), r"in \[0, 1\]; got values from -2 to 1.5"),
        (np.full((5, 2), 0.5), "'true' has 6 samples and 'probs' 5"),
        (np.full((6, 2, 1), 0.5), r"shape \(N, K\), or \(N,\) for two classes; got \(6, 2, 1\)"),
    ],
    ids=["logits", "rows", "3-D"],
)
def test_scores_of_the_wrong_shape_are_refused_in_words(probs: np.ndarray, said: str) -> None:
    for metric in (calibration_summary, expected_calibration_error, precision_recall):
        with pytest.raises(ValueError, match=said):
            metric(TRUTH, probs)
