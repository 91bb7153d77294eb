"""Class probabilities ranked for ROC AUC and average precision: no order lost, no tie made.

Expected values are worked out by hand from the pairs of each case (ROC AUC is the fraction
of positive-negative pairs ordered right, a tie counting one half).
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import delong_roc_ci, ovr_ranks, precision_recall, roc_auc_score
from workflows.report.classification import evaluate_classification


def _softmax32(logits: list[list[float]]) -> np.ndarray:
    """Probabilities as radpipe's inference makes them: a float32 softmax."""
    import torch

    return torch.tensor(logits).float().softmax(dim=1).numpy()


def test_a_tiny_probability_ranks_above_zero() -> None:
    # scikit-learn #3864: scores [1e-20, 0, 0] for truth [1, 0, 0] order both pairs right:
    # AUC 1, AP 1. As 2p - 1 in float64 all three were -1.0, tied: AUC 0.5, AP 1/3
    p1 = np.array([1e-20, 0.0, 0.0])
    probs = np.stack([1 - p1, p1], axis=1)
    true = np.array([1, 0, 0])
    assert roc_auc_score(true, probs) == 1.0
    assert precision_recall(true, probs)["average_precision"][1] == 1.0
    assert delong_roc_ci(true, ovr_ranks(probs)[:, 1])["estimate"] == 1.0


def test_probabilities_saturated_past_1e_16_keep_their_order() -> None:
    # positives lead by 60 and 50 logits, negatives by 55 and 40: 3 of 4 pairs right (50 is
    # below 55). Every class-1 probability is exactly 1.0 in float32 and every class-0 one is
    # below 1e-17 (e**-40 = 4e-18), so 2p - 1 was 1.0 for all four: AUC 0.5
    true = np.array([1, 1, 0, 0])
    probs = _softmax32([[0, 60], [0, 50], [0, 55], [0, 40]])
    assert (probs[:, 1] == 1.0).all()
    assert roc_auc_score(true, probs) == 0.75
    # ranked 60 P, 55 N, 50 P, 40 N: precision 1 and 2/3 at the positives
    assert precision_recall(true, probs)["average_precision"][1] == pytest.approx((1 + 2 / 3) / 2)
    m = evaluate_classification(true, probs, ["benign", "malignant"], n_resamples=0)
    assert m["summary"]["roc_auc_macro"] == 0.75
    # the low end alike: class 0's probabilities are e**-60 ... e**-40, in the same order
    assert roc_auc_score(1 - true, probs[:, ::-1]) == 0.75


def test_tied_decimal_probabilities_stay_tied() -> None:
    # class 2's probabilities are 0.7, 0.7, 0.7, 0.1, 0.1, 0.3; truth class 2 at rows 0 and 5.
    # Positive 0.7 against negatives 0.7, 0.7, 0.1, 0.1: 1/2 + 1/2 + 1 + 1 = 3; positive 0.3:
    # 0 + 0 + 1 + 1 = 2; AUC 5/8. The others' sums 0.1 + 0.2 and 0.3 + 0.0 differ in the
    # last bit, which broke the ties of row 0 (a pair counted 0): 4.5/8
    probs = np.array(
        [
            [0.1, 0.2, 0.7],
            [0.3, 0.0, 0.7],
            [0.2, 0.1, 0.7],
            [0.6, 0.3, 0.1],
            [0.1, 0.8, 0.1],
            [0.5, 0.2, 0.3],
        ]
    )
    true = np.array([2, 0, 1, 0, 1, 2])
    assert roc_auc_score(true, probs, average="none")[2] == 5 / 8
    assert ovr_ranks(probs)[:3, 2].tolist() == [2.0, 2.0, 2.0]
    # float32 softmax values tied at one class are tied alike: 0.7 beside 0.2 + 0.1 and
    # beside 0.15 + 0.15 (float32 sums 0.3000000045 and 0.3000000119)
    single = np.array([[0.7, 0.2, 0.1], [0.7, 0.15, 0.15]], dtype=np.float32)
    assert ovr_ranks(single)[:, 0].tolist() == [0.0, 0.0]
    # at or below 1/2 the probability itself is the finer measure: 0.333 ties although the
    # rows, rounded to 3 decimals, sum to 0.999 and 1.0
    rounded = np.array([[0.333, 0.333, 0.333], [0.333, 0.334, 0.333]])
    assert ovr_ranks(rounded)[:, 0].tolist() == [0.0, 0.0]


def test_rounded_probabilities_tied_above_half_stay_tied() -> None:
    """Rows that sum to 1 only within 1e-3 (probabilities rounded to 3 decimals) were split
    where the class's probability ties, by the others' sum, which there is rounding noise.

    Class 2 of 3: positives A (0.700) and D (0.850), negatives B (0.700) and C (0.100); by
    hand the pairs A-B tie (1/2), A-C, D-B, D-C are right: 3.5 / 4 = 0.875 (scikit-learn's).
    A's others sum to 0.299 and B's to 0.300, so A was ranked above B: 1.0.
    """
    probs = np.array(
        [[0.123, 0.176, 0.700], [0.150, 0.150, 0.700], [0.600, 0.300, 0.100], [0.1, 0.05, 0.85]]
    )
    true = np.array([2, 0, 1, 2])
    assert roc_auc_score(true, probs, average="none")[2] == pytest.approx(0.875)
    # two classes: positives 0.7, 0.8 against negatives 0.7, 0.6, 0.9 -> 3.5 of 6 pairs
    binary = np.array([[0.3, 0.7], [0.2996, 0.7], [0.4, 0.6], [0.2, 0.8], [0.1, 0.9]])
    assert roc_auc_score(np.array([1, 0, 0, 1, 0]), binary) == pytest.approx(3.5 / 6)
    ranks = ovr_ranks(binary)[:, 1]
    assert ranks[0] == ranks[1]
