"""The calibration bins are those scikit-learn's ``calibration_curve`` makes, closed on the
right (a probability of exactly 0.5 is in (0.4, 0.5]), and ``policy.calibration`` says so (it
said "10 equal-width bins", which reads either way)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from pipeline.metrics import expected_calibration_error
from workflows.report.results import evaluate_classification


def test_a_probability_on_a_bin_edge_is_in_the_lower_bin_as_scikit_learn() -> None:
    """Top-class confidences 0.5 (wrong), 0.5 (wrong), 0.55 (right), 1.0 (right), 0.55
    (right). Closed on the right: (0.4, 0.5] gap |0 - 0.5| x 2, (0.5, 0.6] gap 0.45 x 2, (0.9,
    1] gap 0: ECE 1.9 / 5 = 0.38. Closed on the left, [0.5, 0.6) would hold all four: accuracy
    0.5 against 0.525, ECE 0.1 / 5 = 0.02."""
    true = np.array([1, 1, 0, 0, 1])
    p0 = np.array([0.5, 0.5, 0.55, 1.0, 0.45])  # a 0.5 / 0.5 tie is called class 0
    probs = np.stack([p0, 1 - p0], axis=1)
    assert expected_calibration_error(true, probs) == pytest.approx(0.38)
    # the positive-class curve: scikit-learn's own bins and values
    observed, predicted = calibration_curve(true == 1, probs[:, 1], n_bins=10)
    m = evaluate_classification(true, probs, ["neg", "pos"], n_resamples=0)
    assert m["summary"]["ece"] == pytest.approx(0.38)
    np.testing.assert_allclose(m["calibration"]["bins"]["observed"], observed)
    np.testing.assert_allclose(m["calibration"]["bins"]["confidence"], predicted)
    assert m["calibration"]["bins"]["count"] == [1, 3, 1]  # 0 | 0.45, 0.5, 0.5 | 0.55
    assert (
        "closed on the right, as scikit-learn's calibration_curve bins them"
        in (m["policy"]["calibration"])
    )
