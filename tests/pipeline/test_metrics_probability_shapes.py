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


def test_a_binary_metric_given_class_probabilities_names_the_column_to_pass() -> None:
    """(N, 2) probabilities were flattened: 3 cases' 6 values matched a truth of 6 silently
    (roc_curve), or gave "got 3, 6"; now refused, naming what to pass."""
    from pipeline.metrics import choose_threshold, delong_roc_ci, roc_curve

    probs = np.c_[1 - P1[:3], P1[:3]]
    said = r"of shape \(N,\) or \(N, 1\), the positive class's score; got \(3, 2\)"
    for metric in (roc_curve, delong_roc_ci, choose_threshold):
        with pytest.raises(ValueError, match=said):
            metric(TRUTH, probs)  # 6 truths: the flattened scores matched
        with pytest.raises(ValueError, match=r"Expected 6 .*, one per truth; got 5"):
            metric(TRUTH, P1[:5])
    # (N, 1): the positive column, as scikit-learn's y_score (roc_curve by hand: 4 distinct
    # scores 0.9, 0.5, 0.2, 0.1 -> tpr 1/3, 1, 1, 1; fpr 0, 1/3, 2/3, 1)
    fpr, tpr, _ = roc_curve(TRUTH, P1[:, None])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 2 / 3, 1])


@pytest.mark.parametrize("n_bins", [0, -1, 2.5])
def test_calibration_needs_a_whole_number_of_bins(n_bins: object) -> None:
    for metric in (calibration_summary, expected_calibration_error):
        with pytest.raises(ValueError, match="'n_bins' parameter must be an int >= 1"):
            metric(TRUTH, P1, n_bins=n_bins)


@pytest.mark.parametrize(
    "cm",
    [[[1.5, 0], [0, 2]], [[-1, 0], [0, 2]], [[0.5, 0.5], [0.25, 0.75]]],
    ids=["fraction", "negative", "normalised"],
)
def test_rates_need_counts(cm: list[list[float]]) -> None:
    """A normalised matrix gave support [0, 0] (cut to whole numbers) and a specificity that
    weighs each truth row alike; 1.5 gave support 1; -1 gave support -1."""
    from pipeline.metrics import rates_from_confusion

    with pytest.raises(ValueError, match=r"confusion matrix of counts \(whole numbers >= 0\)"):
        rates_from_confusion(np.array(cm))
    assert rates_from_confusion(np.array([[5.0, 1.0], [2.0, 2.0]]))["support"].tolist() == [6, 4]


@pytest.mark.parametrize("level", [0, 1, 95])
def test_delong_interval_level_is_a_fraction(level: float) -> None:
    from pipeline.metrics import delong_roc_ci

    with pytest.raises(ValueError, match=r"'level' parameter must be in \(0, 1\)"):
        delong_roc_ci(TRUTH, P1, level=level)


@pytest.mark.parametrize(
    ("truth", "probs", "shown"),
    [
        ([1, 2, 1, 2], np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]]), "'1', '2'"),
        ([0, -1, 1, 1], np.array([0.1, 0.8, 0.3, 0.6]), "'-1', '0', '1'"),
        ([0.0, 1.5, 0.0, 1.0], np.array([0.1, 0.8, 0.3, 0.6]), "'0.0', '1.0', '1.5'"),
        ([0, 1, 3, 2], np.full((4, 3), 1 / 3), "'0', '1', '2', '3'"),
    ],
    ids=["1/2", "-1", "fraction", "K3-out"],
)
def test_a_truth_that_is_no_column_index_is_refused(
    truth: list[float], probs: np.ndarray, shown: str
) -> None:
    """Truth 1/2 beside two columns gave Brier 0.575, ECE 0.75 and an AP without a word (class
    2 matched no column: a wrong prediction and a negative); 1.5 was cut to 1."""
    k = probs.shape[1] if probs.ndim == 2 else 2
    said = rf"class indices in \[0, {k}\).*{shown}"
    for metric in (calibration_summary, expected_calibration_error, precision_recall):
        with pytest.raises(ValueError, match=said):
            metric(np.array(truth), probs)
    # the same truth as 0/1 floats is read as the indices (Brier by hand: 0.01 + 0.04 + 0.09
    # + 0.16 over 4 = 0.075)
    floats = calibration_summary(np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.1, 0.8, 0.3, 0.6]))
    assert floats["brier"] == pytest.approx(0.075)


def test_logits_are_refused_by_every_calibration_metric() -> None:
    """The ECE and AP took (N, K) logits (rows summing to 3 and 3.5) as probabilities; only the
    calibration summary checked the rows."""
    logits = np.array([[2.0, 1.0], [0.5, 3.0]])
    for metric in (calibration_summary, expected_calibration_error, precision_recall):
        with pytest.raises(ValueError, match=r"2 of 2 rows sum to between 3 and 3\.5"):
            metric(np.array([0, 1]), logits)
    # a float32 softmax (rows 1 within ~1e-7) is taken: top-class confidences 0.7 and 0.6,
    # both right -> ECE (0.3 + 0.4) / 2
    softmax = np.array([[0.7, 0.3], [0.4, 0.6]], dtype=np.float32)
    assert expected_calibration_error(np.array([0, 1]), softmax) == pytest.approx(0.35)


def test_checked_probabilities_keep_their_order() -> None:
    """Checking the rows must not renormalise what average precision ranks: dividing by row
    sums split or merged ties of 0.6899744811276125 and ...124 (softmaxes of logits rounded to
    0.1) and moved the AP off scikit-learn's (0.534 for 0.553)."""
    rng = np.random.default_rng(1)
    for _ in range(40):
        truth = np.r_[0, 1, rng.integers(0, 2, 18)]
        logits = np.round(rng.normal(size=(20, 2)), 1)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        found = precision_recall(truth, probs)["average_precision_macro"]
        assert found == pytest.approx(average_precision_score(truth, probs[:, 1]))
