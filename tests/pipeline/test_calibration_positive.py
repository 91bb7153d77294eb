"""The reliability bins and the average precision of a two-class evaluation describe the
positive class that evaluate.positive_class names (class 0 for BreastMNIST's malignant), not
class 1 always.

A surviving mutant: the Brier score and the curve's ECE are the same for either class of two
(p0 = 1 - p1, the bins mirrored), so only the bins themselves, which the report's reliability
diagram draws under the positive class's name, tell the classes apart.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics.calibration import calibration_summary, precision_recall

TRUE = np.array([0, 0, 1, 1])
P1 = np.array([0.15, 0.35, 0.75, 0.55])
PROBS = np.stack([1 - P1, P1], axis=1)


def test_bins_of_class_0_when_it_is_positive() -> None:
    """Class 0's probabilities 0.85, 0.65, 0.25, 0.45 fall one per 0.2-wide bin (4, 3, 1, 2);
    the cases of class 0 (the events) are the first two: observed 0, 0, 1, 1 in bin order."""
    cal = calibration_summary(TRUE, PROBS, n_bins=5, positive=0)
    assert cal["bins"]["confidence"] == pytest.approx([0.25, 0.45, 0.65, 0.85])
    assert cal["bins"]["observed"] == [0.0, 0.0, 1.0, 1.0]
    assert cal["bins"]["count"] == [1, 1, 1, 1]
    assert cal["target"].startswith("positive class")


def test_bins_of_class_1_by_default() -> None:
    """Class 1's probabilities 0.15, 0.35, 0.75, 0.55: bins 0, 1, 3, 2."""
    cal = calibration_summary(TRUE, PROBS, n_bins=5)
    assert cal["bins"]["confidence"] == pytest.approx([0.15, 0.35, 0.55, 0.75])
    assert cal["bins"]["observed"] == [0.0, 0.0, 1.0, 1.0]
    # Brier of either class of two: mean of (0.15, 0.35, 0.25, 0.45) squared
    expected = float(np.mean(np.square([0.15, 0.35, 0.25, 0.45])))
    assert cal["brier"] == pytest.approx(expected)
    assert calibration_summary(TRUE, PROBS, n_bins=5, positive=0)["brier"] == pytest.approx(
        expected
    )


def test_curve_ece_weighs_each_bin_by_its_cases() -> None:
    """Class 1's probabilities 0.3, 0.35 (bin 1: confidence 0.325, observed 1/2, gap 0.175,
    2 cases) and 0.9 (bin 4: observed 1, gap 0.1, 1 case): (2 x 0.175 + 0.1) / 3 = 0.15; the
    bins' unweighted mean would be 0.1375."""
    p1 = np.array([0.3, 0.35, 0.9])
    cal = calibration_summary(np.array([0, 1, 1]), np.stack([1 - p1, p1], axis=1), n_bins=5)
    assert cal["bins"]["count"] == [2, 1]
    assert cal["ece_curve"] == pytest.approx(0.15)


def test_average_precision_of_the_positive_class() -> None:
    """Truth 0 0 0 1 1, class 1's probabilities 0.1 0.7 0.3 0.8 0.5.
    Class 0 positive, ranked by its probability (0.9 0.7 0.5 0.3 0.2 for cases 0 2 4 1 3):
    hits at ranks 1, 2 and 4, AP = (1/1 + 2/2 + 3/4) / 3 = 11/12.
    Class 1 positive (ranks 0.8 0.7 0.5: cases 3, 1, 4): hits at ranks 1 and 3, AP = 5/6."""
    p1 = np.array([0.1, 0.7, 0.3, 0.8, 0.5])
    true, probs = np.array([0, 0, 0, 1, 1]), np.stack([1 - p1, p1], axis=1)
    assert precision_recall(true, probs, positive=0) == {
        "average_precision": {0: pytest.approx(11 / 12)},
        "average_precision_macro": pytest.approx(11 / 12),
    }
    assert precision_recall(true, probs)["average_precision"] == {1: pytest.approx(5 / 6)}
