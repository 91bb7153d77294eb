"""The operating point by hand: chosen on the validation cases only, applied unchanged to the
test cases (a test probability equal to the threshold is called positive)."""

from __future__ import annotations

import numpy as np
import pytest

from workflows.report.operating_point import _operating_point

# Validation: thresholds 0.9, 0.7, 0.6, 0.4 give (TPR, FPR) (1/3, 0), (2/3, 0), (2/3, 1/3),
# (1, 1/3): Youden's J is 2/3 at 0.7 and at 0.4; the higher threshold, 0.7, is chosen.
VAL_TRUE = np.array([0, 0, 0, 1, 1, 1])
VAL_P1 = np.array([0.1, 0.3, 0.6, 0.4, 0.7, 0.9])
TEST_TRUE = np.array([0, 1, 1, 0, 1])
TEST_P1 = np.array([0.7, 0.7, 0.2, 0.1, 0.9])


def _probs(p1: np.ndarray) -> np.ndarray:
    return np.stack([1 - p1, p1], axis=1)


def test_youden_is_chosen_on_validation_and_applied_to_test() -> None:
    op = _operating_point(TEST_TRUE, _probs(TEST_P1), (VAL_TRUE, _probs(VAL_P1)),
                          ("youden", 0.9), 1)  # fmt: skip
    assert op["threshold"] == pytest.approx(0.7)
    assert op["validation_cases"] == 6
    assert op["validation_sensitivity"] == pytest.approx(2 / 3)
    assert op["validation_specificity"] == pytest.approx(1.0)
    # test calls (p >= 0.7): 1, 1, 0, 0, 1 -> rows true 0 / 1: [[1, 1], [1, 2]]
    assert op["test_confusion_matrix"] == [[1, 1], [1, 2]]
    assert op["test_sensitivity"] == pytest.approx(2 / 3)
    assert op["test_specificity"] == pytest.approx(1 / 2)
    assert op["test_precision"] == pytest.approx(2 / 3)


def test_the_sensitivity_rule_takes_the_highest_threshold_that_reaches_it() -> None:
    op = _operating_point(TEST_TRUE, _probs(TEST_P1), (VAL_TRUE, _probs(VAL_P1)),
                          ("sensitivity", 0.6), 1)  # fmt: skip
    assert op["threshold"] == pytest.approx(0.7)  # TPR 2/3 >= 0.6 first at 0.7
    op = _operating_point(TEST_TRUE, _probs(TEST_P1), (VAL_TRUE, _probs(VAL_P1)),
                          ("sensitivity", 1.0), 1)  # fmt: skip
    assert op["threshold"] == pytest.approx(0.4)
    assert op["validation_specificity"] == pytest.approx(2 / 3)


def test_class_0_as_positive_thresholds_its_own_probability() -> None:
    """Positive class 0: its probability is 1 - p1 and its cases are the 0s."""
    op = _operating_point(1 - TEST_TRUE, _probs(1 - TEST_P1), (1 - VAL_TRUE, _probs(1 - VAL_P1)),
                          ("youden", 0.9), 0)  # fmt: skip
    assert op["threshold"] == pytest.approx(0.7)
    assert op["test_confusion_matrix"] == [[2, 1], [1, 1]]  # class 0 first: the positives
    assert op["test_sensitivity"] == pytest.approx(2 / 3)
    assert op["test_precision"] == pytest.approx(2 / 3)
