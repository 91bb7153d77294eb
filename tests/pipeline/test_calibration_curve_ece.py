"""The reliability diagram's legend gives the ECE of the curve it draws. For two classes the
curve is the positive class's probability against the fraction of positives, whose ECE is not
the top-class ECE of ``metrics.json``'s summary; the legend showed the latter beside the
former's curve (BreastMNIST: 0.078 printed, 0.125 for the curve drawn).

Four cases, by hand. True 0, 0, 1, 1; positive-class probabilities 0.3, 0.4, 0.6, 0.45, each
alone in its tenth: the curve's gaps 0.3, 0.4, 0.4, 0.55 -> ECE 1.65 / 4 = 0.4125. Top class:
confidences 0.7 (right), 0.6 (right), 0.6 (right), 0.55 (wrong) -> the 0.5-0.6 bin holds
three with accuracy 2/3 and mean confidence 0.5833 (gap 0.0833 x 3), the 0.7 bin gap 0.3 ->
(0.25 + 0.3) / 4 = 0.1375.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import calibration_summary
from workflows.report.plots import _reliability_label

_TRUE = np.array([0, 0, 1, 1])
_P1 = np.array([0.3, 0.4, 0.6, 0.45])


def test_the_curve_s_ece_and_the_top_class_ece() -> None:
    cal = calibration_summary(_TRUE, np.stack([1 - _P1, _P1], axis=1))
    assert cal["ece_curve"] == pytest.approx(0.4125)
    assert cal["ece"] == pytest.approx(0.1375)
    label = _reliability_label(cal)
    assert (
        "ECE of this curve 0.412" in label and "top-class ECE 0.137" in label
    )  # 0.1375 in float: 0.13749...


def test_with_three_classes_the_curve_is_the_top_class_s() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.6, 0.3, 0.1]])
    cal = calibration_summary(np.array([0, 1, 1, 2]), probs)
    assert cal["ece_curve"] == pytest.approx(cal["ece"])
    assert _reliability_label(cal).startswith(f"model (ECE {cal['ece']:.3f}, Brier")
