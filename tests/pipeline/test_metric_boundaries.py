"""Metric edges that a mutation sweep of ``pipeline.metrics`` found untested: a comparison
flipped (``>`` for ``>=``), a constant moved by one or a tolerance widened left every earlier
test green. Each expected value here is worked out by hand (shown) or by scikit-learn/scipy.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta
from sklearn.metrics import confusion_matrix as sk_confusion

from pipeline.metrics import (
    bootstrap_ci,
    choose_threshold,
    confusion_matrix,
    delong_roc_ci,
    expected_calibration_error,
    normalized_surface_dice,
)
from pipeline.metrics.proportions import exact_when_unanimous
from pipeline.metrics.roc import undefined_auc_reason


def test_delong_interval_bounds_by_hand() -> None:
    """Positives 0.9, 0.7, 0.5, 0.3 against negatives 0.8, 0.6, 0.4, 0.2. Placements: each
    positive above 4/4, 3/4, 2/4, 1/4 of the negatives, so AUC 0.625; each negative below
    1/4 ... 4/4 of the positives. Both sets have variance (ddof 1) 0.3125 / 3, so
    se = sqrt(2 * 0.3125 / 3 / 4) = 0.228218; at level 0.5, z = 0.674490 and the interval is
    0.625 -/+ 0.153930 (unclipped, so the bounds themselves are checked)."""
    true = [1, 0, 1, 0, 1, 0, 1, 0]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    ci = delong_roc_ci(true, scores, level=0.5)
    se = np.sqrt(2 * 0.3125 / 3 / 4)
    assert ci["estimate"] == pytest.approx(0.625)
    assert ci["se"] == pytest.approx(se)
    assert (ci["low"], ci["high"]) == pytest.approx(
        (0.625 - 0.674490 * se, 0.625 + 0.674490 * se), abs=1e-6
    )


def test_one_label_out_of_range_is_refused() -> None:
    """One element is enough to be checked: a lone 5 of 2 classes is no class index."""
    with pytest.raises(ValueError, match="5"):
        confusion_matrix(np.array([5]), np.array([0]), 2)


def test_one_dimensional_labels_count_as_scikit_learn() -> None:
    """A classification's (N,) labels: rows are the truth, as scikit-learn's."""
    true, pred = np.array([0, 1, 1, 2, 2, 2]), np.array([0, 1, 0, 2, 1, 2])
    assert confusion_matrix(true, pred, 3).tolist() == sk_confusion(true, pred).tolist()


def test_probabilities_of_exactly_0_and_1_are_probabilities() -> None:
    """1-D positive-class probabilities 1.0, 0.0, 0.5 for truths 1, 0, 1: confidences 1, 1,
    0.5 (argmax ties go to class 0, wrong for the third); 10 right-closed bins put 1.0 in
    (0.9, 1] and 0.5 in (0.4, 0.5]: ECE = (2 * |1 - 1| + 1 * |0 - 0.5|) / 3 = 1/6."""
    ece = expected_calibration_error(np.array([1, 0, 1]), np.array([1.0, 0.0, 0.5]), n_bins=10)
    assert ece == pytest.approx(1 / 6)


@pytest.mark.parametrize(("seed", "n_bins", "k"), [(0, 10, 2), (1, 7, 3), (2, 3, 4)])
def test_expected_calibration_error_of_right_closed_bins(seed: int, n_bins: int, k: int) -> None:
    """ECE against bins made here from the edges: bin b holds confidences in
    (b / n, (b + 1) / n] (the first also 0), weighted by its share of cases. With 4 classes
    confidences go down to 0.25, so 3 bins' first one, (0, 1/3], is used too."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.7), size=300)
    true = np.array([rng.choice(k, p=row) for row in probs])
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == true
    which = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    assert k < 4 or (which == 0).any()
    expected = sum(
        (which == b).sum() / 300 * abs(correct[which == b].mean() - confidence[which == b].mean())
        for b in range(n_bins)
        if (which == b).any()
    )
    assert expected_calibration_error(true, probs, n_bins=n_bins) == pytest.approx(expected)


def test_batched_confusion_of_one_element_cases() -> None:
    """(B,) labels to the per-case form: B cases of one element each."""
    from pipeline.metrics import confusion_matrices

    per_case = confusion_matrices(np.array([0, 1]), np.array([0, 0]), 2)
    assert per_case.tolist() == [[[1, 0], [0, 0]], [[0, 0], [1, 0]]]


def test_binary_auc_with_one_class_absent_is_said() -> None:
    assert undefined_auc_reason([1, 1, 1], ["normal", "pneumonia"]) == (
        "ROC AUC is undefined: only one class is present in the test cases "
        "(class 1, pneumonia); class 0 (normal) has no case"
    )
    assert undefined_auc_reason([0, 1, 1], ["normal", "pneumonia"]) == ""


def test_surface_dice_of_one_element_against_nothing_is_zero() -> None:
    """A one-voxel prediction where the truth is empty: its one boundary element is within
    no tolerance of a boundary that does not exist, so NSD = 0 / 1 = 0 (not NaN: that is for
    both masks empty)."""
    pred = np.zeros((5, 5), bool)
    pred[2, 2] = True
    assert normalized_surface_dice(np.zeros((5, 5), bool), pred, tolerance=2.0) == 0.0
    assert np.isnan(normalized_surface_dice(np.zeros((5, 5), bool), np.zeros((5, 5), bool), 2.0))


def test_unanimous_zero_gets_the_exact_interval_of_none() -> None:
    """No positive found, of 3 patients: 0 of 3, so Clopper-Pearson's [0, 1 - 0.025 ** (1/3)]
    = [0, 0.708] (scipy's beta quantile gives the same)."""
    groups = np.array(["a", "a", "b", "c"])
    found = np.zeros(4)
    ci = bootstrap_ci(lambda idx: float(found[idx].mean()), groups, n_resamples=100)
    filled = exact_when_unanimous(ci, groups, np.ones(4, bool))
    assert (filled["low"], filled["high"]) == pytest.approx((0.0, 1 - 0.025 ** (1 / 3)))
    assert filled["high"] == pytest.approx(beta.ppf(0.975, 1, 3))
    assert "0 of 3 patients" in filled["note"]


def test_youden_point_is_the_maximum_not_a_near_one() -> None:
    """Ten positives (0.9 ... 0.41) and ten negatives (0.55, 0.40 and below): at threshold
    0.41 every positive and one negative are called (J = 1 - 0.1 = 0.9), at 0.42 nine and one
    (J = 0.8): the operating point is 0.41, the one maximum. A sensitivity of 0.9 is first
    reached at 0.42."""
    pos = [0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.44, 0.43, 0.42, 0.41]
    neg = [0.55, 0.40, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.02, 0.01]
    true = np.array([1] * 10 + [0] * 10)
    scores = np.array(pos + neg)
    assert choose_threshold(true, scores)["threshold"] == pytest.approx(0.41)
    sens = choose_threshold(true, scores, rule="sensitivity", target_sensitivity=0.9)
    assert sens["threshold"] == pytest.approx(0.42)
