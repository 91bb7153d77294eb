"""The policy list of ``metrics.json`` (shown in the report) names only rules that applied."""

from __future__ import annotations

import numpy as np

from workflows.report.classification import evaluate_classification

RULE = (
    "threshold on the positive-class probability chosen on the validation split, applied "
    "unchanged to the test split"
)


def test_the_operating_point_rule_is_listed_only_with_an_operating_point() -> None:
    true = np.array([0, 1, 0, 1])
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    binary = evaluate_classification(
        true, probs, ["a", "b"], validation=(true, probs), n_resamples=0
    )
    assert binary["policy"]["operating_point"] == RULE and "operating_point" in binary
    without = evaluate_classification(true, probs, ["a", "b"], n_resamples=0)
    assert "operating_point" not in without and "operating_point" not in without["policy"]
    three = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]])
    multi = evaluate_classification(
        np.array([0, 1, 2, 0]), three, ["a", "b", "c"], validation=(true, probs), n_resamples=0
    )
    assert "operating_point" not in multi and "operating_point" not in multi["policy"]
