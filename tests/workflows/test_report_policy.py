"""The policy list of ``metrics.json`` (shown in the report) names only rules that applied."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_the_sensitivity_cards_say_their_positive_class_and_that_they_are_at_argmax() -> None:
    """The report's Sensitivity / Specificity cards beside the operating point's own test
    figures: the cards are at argmax (here specificity 1.0), the operating point at its
    threshold (0.75); the cards said neither which class was positive nor where they were
    called, so a reader could not tell the two specificities apart."""
    from workflows.report.sections import cards

    val_true = np.array([0, 0, 1, 1])
    val_probs = np.array([[0.7, 0.3], [0.65, 0.35], [0.62, 0.38], [0.6, 0.4]])
    true = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.61, 0.39], [0.55, 0.45], [0.52, 0.48]])
    metrics = evaluate_classification(
        true, probs, ["normal", "nodule"], validation=(val_true, val_probs), n_resamples=0
    )
    threshold = metrics["operating_point"]["threshold"]
    assert threshold == 0.38  # youden on validation: both nodules at 0.38 and 0.4 called
    assert metrics["summary"]["specificity"] == 1.0  # argmax calls every test case normal
    assert metrics["operating_point"]["test_specificity"] == 0.5  # 0.39 >= 0.38: a nodule
    html = cards("classification", metrics)
    said = (
        "positive class: nodule (by default: class 1, not normal; evaluate.positive_class "
        "chooses); called by the higher probability (argmax, 0.5), not at the "
    )
    assert html.count(said + "operating point (0.380, below)") == 2  # sensitivity, specificity


def test_the_policy_says_binary_average_precision_is_the_positive_class_s() -> None:
    """``average_precision_macro`` of two classes is the positive class's AP alone (README);
    the policy said 'one-vs-rest', read as the mean of both. By hand: truth [1, 1, 1, 0],
    P(class 1) [0.9, 0.8, 0.2, 0.3]: class 1 ranks P P N P, AP = (1 + 1 + 3/4) / 3 = 11/12;
    class 0 (scores 0.1, 0.2, 0.8, 0.7) ranks N P, AP 1/2: a mean of both would be 17/24."""
    p1 = np.array([0.9, 0.8, 0.2, 0.3])
    m = evaluate_classification(np.array([1, 1, 1, 0]), np.stack([1 - p1, p1], 1), ["a", "b"],
                                n_resamples=0)  # fmt: skip
    assert m["summary"]["average_precision_macro"] == pytest.approx(11 / 12)
    assert "positive class only" in m["policy"]["average_precision"]
    multi = evaluate_classification(np.array([0, 1, 2]), np.eye(3), ["a", "b", "c"],
                                    n_resamples=0)  # fmt: skip
    assert multi["policy"]["average_precision"].endswith("one-vs-rest, macro over the classes")
