"""ROC curve and AUC edges the tie-heavy agreement tests do not reach.

Expected values by hand (each worked out in its test) and from scikit-learn.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as sklearn_metrics

from pipeline.metrics import ovr_ranks, roc_auc_score, roc_curve
from pipeline.metrics._arrays import (
    as_labels,
    check_finite_scores,
    check_num_classes,
    class_probabilities,
)
from pipeline.metrics.roc import undefined_auc_reason

# four distinct scores, no ties: every score is a threshold of its own
TRUTH = np.array([0, 1, 1, 0])
SCORES = np.array([0.1, 0.4, 0.35, 0.8])


def test_thresholds_of_distinct_scores_are_the_scores_falling() -> None:
    fpr, tpr, thr = roc_curve(TRUTH, SCORES)
    # falling: 0.8 (a negative), 0.4 (positive), 0.35 (positive), 0.1 (negative)
    assert thr.tolist() == [np.inf, 0.8, 0.4, 0.35, 0.1]
    assert fpr.tolist() == [0.0, 0.5, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    efpr, etpr, ethr = sklearn_metrics.roc_curve(TRUTH, SCORES, drop_intermediate=False)
    np.testing.assert_allclose(thr[1:], ethr[1:])
    np.testing.assert_allclose(fpr, efpr)
    np.testing.assert_allclose(tpr, etpr)


@pytest.mark.parametrize("truth", [[1, 1, 1], [0, 0, 0]], ids=["all-positive", "all-negative"])
def test_one_class_auc_is_nan_without_a_numpy_warning(truth: list[int]) -> None:
    # undefined (no pair to rank), said as NaN; not as 0/0 with numpy's "invalid value"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(roc_auc_score(truth, [0.2, 0.5, 0.9]))


@pytest.mark.parametrize("probs", [[0.2, 1.5], [-0.1, 0.9]], ids=["above-one", "below-zero"])
def test_one_dimensional_probabilities_outside_zero_one_are_refused(probs: list[float]) -> None:
    # scores or logits passed where the probability of class 1 was meant
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        class_probabilities([0, 1], probs)


def test_rows_summing_past_one_are_scores_not_probabilities() -> None:
    # one-vs-rest scores whose rows sum to 1.05: returned as they are, not ranked
    scores = np.array([[0.5, 0.55], [0.3, 0.75]])
    assert ovr_ranks(scores).tolist() == scores.tolist()


def test_non_finite_scores_are_counted_per_sample() -> None:
    probs = np.array([[0.5, 0.5], [np.nan, np.nan], [0.2, 0.8]])
    with pytest.raises(ValueError, match="1 of 3 samples have non-finite"):
        check_finite_scores(probs)


def test_boolean_labels_are_class_indices_and_zero_classes_are_refused() -> None:
    assert as_labels(np.array([True, False]), 2, "true").tolist() == [1, 0]
    with pytest.raises(ValueError, match="must be an int >= 1; got 0"):
        check_num_classes(0)


def test_a_class_holding_every_case_is_named_as_such() -> None:
    # one-vs-rest: class 2 has no negative case, classes 0 and 1 no positive one
    assert undefined_auc_reason([2, 2, 2], ["a", "b", "c"]) == (
        "ROC AUC (one-vs-rest) is undefined for 3 classes: classes 0 (a), 1 (b) have no case; "
        "class 2 (c) is every case in the test cases, so roc_auc_macro is null"
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_average_ranks_are_scipys_midranks(seed: int) -> None:
    """The ranks behind AUC, DeLong's interval and the saliency check's Spearman rho: those
    of ``scipy.stats.rankdata`` (average method), with many ties and without."""
    from scipy.stats import rankdata, spearmanr

    from pipeline.metrics._arrays import average_ranks

    rng = np.random.default_rng(seed)
    for values in (rng.integers(0, 5, 40), rng.normal(size=33), np.array([7.0])):
        np.testing.assert_array_equal(average_ranks(values), rankdata(values))
    assert average_ranks(np.array([10, 20, 20, 5])).tolist() == [2.0, 3.5, 3.5, 1.0]
    a, b = rng.integers(0, 6, 50), rng.normal(size=50)
    rho = np.corrcoef(average_ranks(a), average_ranks(b))[0, 1]
    assert rho == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
