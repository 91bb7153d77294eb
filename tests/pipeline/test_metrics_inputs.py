"""Metric inputs as users pass them: score and truth encodings, probability maps.

Expected values are worked out by hand in each test.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import (
    choose_threshold,
    delong_roc_ci,
    hausdorff_distance,
    mean_surface_distance,
    ovr_ranks,
    precision_recall,
    roc_auc_score,
    roc_curve,
    surface_metrics_per_class,
)
from workflows.report.classification import evaluate_classification

# positives 0.35, 0.8, 0.7 against negatives 0.1, 0.4, 0.2: 8 of the 9 pairs ordered right
TRUTH = np.array([0, 0, 1, 1, 0, 1])
SCORES = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7])
AUC = 8 / 9


def test_sigmoid_output_with_its_channel_axis_is_the_positive_score() -> None:
    # a (N, 1) sigmoid output was read as one class scored against the rest: 1 - AUC = 1/9
    assert roc_auc_score(TRUTH, SCORES[:, None]) == pytest.approx(AUC)
    assert roc_auc_score(TRUTH, np.stack([1 - SCORES, SCORES], axis=1)) == pytest.approx(AUC)


@pytest.mark.parametrize("negative", [-1, False], ids=["minus-one", "bool"])
def test_minus_one_and_boolean_truth_are_read_as_scikit_learn_reads_them(negative: int) -> None:
    true = np.where(TRUTH == 1, True if negative is False else 1, negative)
    assert roc_auc_score(true, SCORES) == pytest.approx(AUC)  # was NaN: -1 read as positive
    assert delong_roc_ci(true, SCORES)["estimate"] == pytest.approx(AUC)
    fpr, tpr, _ = roc_curve(true, SCORES)
    assert fpr.tolist() == pytest.approx([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    assert tpr.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    assert choose_threshold(true, SCORES)["threshold"] in (0.7, 0.35)  # was: refused


def test_youden_ties_within_rounding_take_the_highest_threshold() -> None:
    # J = 2/3 - 0 at 0.7 and 1 - 1/3 at 0.35: equal, but 1 - 1/3 is one bit larger in
    # float64, which picked 0.35 against the documented rule (ties: the highest threshold)
    chosen = choose_threshold(TRUTH, SCORES)
    assert (chosen["threshold"], chosen["sensitivity"], chosen["specificity"]) == (0.7, 2 / 3, 1)


@pytest.mark.parametrize(
    "true",
    [TRUTH + 1, np.where(TRUTH == 1, "malignant", "benign"), TRUTH * 255],
    ids=["one-two", "names", "zero-255"],
)
def test_binary_truth_that_names_no_positive_class_is_refused(true: np.ndarray) -> None:
    # 1/2 read as "nonzero is positive": every case positive and an AUC of NaN, unsaid
    for call in (
        lambda: roc_auc_score(true, SCORES),
        lambda: roc_curve(true, SCORES),
        lambda: delong_roc_ci(true, SCORES),
        lambda: choose_threshold(true, SCORES),
    ):
        with pytest.raises(ValueError, match="name no positive class"):
            call()


def test_multiclass_truth_outside_the_score_columns_is_refused() -> None:
    # class 3 with 3 score columns was scored as a negative of every class (AUC 1, 1, 0.83)
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        roc_auc_score([0, 1, 2, 3], np.eye(3)[[0, 1, 2, 2]], average="none")


def _squares() -> tuple[np.ndarray, np.ndarray]:
    true = np.zeros((20, 20))
    true[5:10, 5:10] = 1  # rows 5-9
    pred = np.zeros((20, 20))
    pred[6:12, 5:10] = 1  # rows 6-11: the far edge 2 rows past the truth's
    return true, pred


def test_float_masks_of_whole_numbers_are_masks() -> None:
    true, pred = _squares()
    assert hausdorff_distance(true, pred, percentile=100) == 2.0
    assert hausdorff_distance(true.astype(bool), pred.astype(bool), percentile=100) == 2.0


def test_probability_maps_are_refused_by_the_surface_metrics() -> None:
    # a sigmoid output is above 0 everywhere: as "nonzero = foreground" the whole image was
    # the prediction and HD95 12.8 where the thresholded mask gives 2.0
    true, pred = _squares()
    soft = pred * 0.9 + 0.01
    for call in (
        lambda: hausdorff_distance(true, soft),
        lambda: mean_surface_distance(true, soft),
    ):
        with pytest.raises(ValueError, match=r"'pred' to be a binary mask; 400 of 400"):
            call()
    with pytest.raises(ValueError, match="integer class indices"):
        surface_metrics_per_class(true.astype(np.int64), soft, 2)


def _softmax32(logits: list[list[float]]) -> np.ndarray:
    """Probabilities as ``radpipe``'s inference makes them: a float32 softmax."""
    import torch

    return torch.tensor(logits).float().softmax(dim=1).numpy()


def test_probabilities_saturated_by_float32_keep_their_order() -> None:
    # positives lead by 30, 25, 18 logits, negatives by 20, 5, -3: 8 of 9 pairs ordered right.
    # Every lead above ~17 is a probability of exactly 1.0 in float32, so the negative at 20
    # tied with all three positives: AUC 7.5/9, AP 0.75 (torchmetrics #2819)
    true = np.array([1, 1, 1, 0, 0, 0])
    probs = _softmax32([[0, d] for d in (30, 25, 18, 20, 5, -3)])
    assert (probs[:4, 1] == 1.0).all()
    assert roc_auc_score(true, probs) == pytest.approx(8 / 9)
    # ranked 30 P, 25 P, 20 N, 18 P: precision 1, 1, 3/4 at the positives
    ap = precision_recall(true, probs)["average_precision"][1]
    assert ap == pytest.approx((1 + 1 + 3 / 4) / 3)
    m = evaluate_classification(true, probs, ["benign", "malignant"], n_resamples=0)
    assert m["summary"]["roc_auc_macro"] == pytest.approx(8 / 9)
    assert m["summary"]["average_precision_macro"] == pytest.approx((1 + 1 + 3 / 4) / 3)


def test_one_vs_rest_ranks_saturated_classes_by_the_others() -> None:
    # class 0 leads by 40 and 35 in its cases and by 30 in a class-1 case: 1.0 for all three
    # in float32; by the leads class 0's AUC is 1 (40, 35 above 30 and -5), tied it was 0.75
    probs = _softmax32([[40, 0, 0], [35, 0, 0], [30, 0, 5], [-5, 0, 3]])
    auc = roc_auc_score([0, 0, 1, 2], probs, average="none")
    assert auc[0] == pytest.approx(1.0)


def test_scores_that_are_not_probabilities_are_ranked_as_they_are() -> None:
    # 3-class logits: a margin against the others' sum would reorder them (class 0: case 0
    # 2 - (1 + 1) = 0 below case 1 1 - (-3 - 3) = 7); ranked as given, case 0 leads
    logits = np.array([[2.0, 1.0, 1.0], [1.0, -3.0, -3.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    assert np.array_equal(ovr_ranks(logits), logits)
    assert roc_auc_score([0, 1, 2, 2], logits, average="none")[0] == pytest.approx(1.0)


def test_one_spacing_number_is_every_axis_and_a_non_finite_one_is_refused() -> None:
    # two single pixels two columns apart at 0.5 mm: 1.0 mm (MONAI takes one number too;
    # here it was "TypeError: 'float' object is not iterable")
    a = np.zeros((5, 5), bool)
    a[1, 1] = True
    b = np.zeros((5, 5), bool)
    b[1, 3] = True
    assert hausdorff_distance(a, b, spacing=0.5) == 1.0
    with pytest.raises(ValueError, match="finite positive values"):
        hausdorff_distance(a, b, spacing=(np.inf, 1.0))  # was NaN: inf - inf


def test_a_one_hot_or_multi_label_truth_is_refused_as_such() -> None:
    """An (N, K) truth was flattened into N * K labels and refused as 'Expected 8 scores; got
    4' (or 'N=12'), naming neither the truth nor what to pass. Its argmax scores as the
    class indices do (AUC 8/9 by hand, above); an (N, 1) column is one label per case."""
    from pipeline.metrics import calibration_summary

    one_hot = np.eye(2, dtype=np.int64)[TRUTH]
    probs = np.c_[1 - SCORES, SCORES]
    said = r"'true' of shape \(N,\), one class per case; got \(6, 2\), a one-hot"
    for metric in (roc_auc_score, calibration_summary, precision_recall):
        with pytest.raises(ValueError, match=said):
            metric(one_hot, probs)
    for metric in (roc_curve, delong_roc_ci, choose_threshold):
        with pytest.raises(ValueError, match=said):
            metric(one_hot, SCORES)
    assert roc_auc_score(one_hot.argmax(axis=1), probs) == pytest.approx(AUC)
    assert roc_auc_score(TRUTH[:, None], SCORES) == pytest.approx(AUC)
