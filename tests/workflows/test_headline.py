"""The line of test figures ``radpipe run`` and ``radpipe evaluate`` print at the end.

An undefined figure (null in ``metrics.json``) was left out of the line without a word, and
with it, when every case's HD95 failed, the count of failures: a segmentation whose every
structure was missed printed ``dice_case_mean 0.000 ...`` and no distance at all. Counts
were printed as fractions (``hd95_failed 0.000``). Expected lines are written by hand."""

from __future__ import annotations

import warnings

import numpy as np

from workflows.report.results import evaluate_classification, evaluate_segmentation
from workflows.run.summary import headline, headline_text, positive_class_of


def test_every_case_failing_hd95_is_said_with_its_count() -> None:
    """One 8x8 case: a 4x4 square in truth, nothing predicted (Dice 0; HD95 infinite: a
    failure, excluded from the mean, which is then undefined)."""
    truth = np.zeros((8, 8), np.int64)
    truth[2:6, 2:6] = 1
    pred = np.zeros((8, 8), np.int64)
    metrics = evaluate_segmentation(
        [("a", truth, pred, (1.0, 1.0))], 2, ["background", "lesion"], n_resamples=0
    )
    metrics["distance_unit"] = "mm"
    assert headline_text(headline(metrics)) == (
        "dice_case_mean 0.000  jaccard_case_mean 0.000  dice_dataset_macro 0.000  "
        "hd95_mean_mm undefined  hd95_failed 1"
    )


def test_counts_are_whole_numbers() -> None:
    """Case a: truth = prediction (Dice 1, HD95 0); case b: empty in both (absent)."""
    square = np.zeros((8, 8), np.int64)
    square[2:6, 2:6] = 1
    empty = np.zeros((8, 8), np.int64)
    cases = [("a", square, square, (1.0, 1.0)), ("b", empty, empty, (1.0, 1.0))]
    metrics = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    metrics["distance_unit"] = "voxel"
    assert headline_text(headline(metrics)) == (
        "dice_case_mean 1.000  jaccard_case_mean 1.000  dice_dataset_macro 1.000  "
        "hd95_mean_voxel 0.000  hd95_failed 0  dice_case_absent 1"
    )


def test_an_undefined_roc_auc_is_said_not_dropped() -> None:
    """3 classes, class 2 in no test case: one-vs-rest ROC AUC is undefined for it, so the
    macro is null; the 4 cases are all called right (accuracy 1, F1 macro over the classes
    present 1)."""
    true = np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the undefined class, said elsewhere
        metrics = evaluate_classification(true, probs, ["a", "b", "c"], n_resamples=0)
    assert headline_text(headline(metrics)) == (
        "accuracy 1.000  balanced_accuracy 1.000  f1_macro 1.000  roc_auc_macro undefined"
    )


def test_the_positive_class_is_named_beside_sensitivity_and_specificity() -> None:
    """BreastMNIST labels malignant 0 and benign 1: class 1 is positive by default, so the
    printed sensitivity was that of finding benign lesions, unnamed; then named as a bare
    ``benign``, still read as the disease's: a positive class nothing chose says so and names
    the class it is not. 4 cases, true
    [0, 0, 1, 1], predicted [0, 1, 1, 1]: of class 1 (benign), sensitivity 2/2 = 1 and
    specificity 1/2; of class 0 (malignant), sensitivity 1/2 and specificity 1."""
    true = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    names = ["malignant", "benign"]
    metrics = evaluate_classification(true, probs, names, n_resamples=0)
    assert headline_text(headline(metrics), positive_class_of(metrics)) == (
        "accuracy 0.750  balanced_accuracy 0.750  f1_macro 0.733  roc_auc_macro 1.000  "
        "sensitivity 1.000  specificity 0.500 (positive class: benign (by default: class 1, not "
        "malignant; evaluate.positive_class chooses); called by argmax)"
    )
    metrics = evaluate_classification(true, probs, names, n_resamples=0, positive=1)
    assert headline_text(headline(metrics), positive_class_of(metrics)) == (
        "accuracy 0.750  balanced_accuracy 0.750  f1_macro 0.733  roc_auc_macro 1.000  "
        "sensitivity 1.000  specificity 0.500 (positive class: benign; called by argmax)"
    )
    metrics = evaluate_classification(true, probs, names, n_resamples=0, positive=0)
    assert headline_text(headline(metrics), positive_class_of(metrics)) == (
        "accuracy 0.750  balanced_accuracy 0.750  f1_macro 0.733  roc_auc_macro 1.000  "
        "sensitivity 0.500  specificity 1.000 (positive class: malignant; called by argmax)"
    )


def test_no_positive_class_for_segmentation() -> None:
    square = np.zeros((8, 8), np.int64)
    square[2:6, 2:6] = 1
    metrics = evaluate_segmentation(
        [("a", square, square, (1.0, 1.0))], 2, ["bg", "x"], n_resamples=0
    )
    assert positive_class_of(metrics) is None


def test_failures_scored_as_the_diagonal_are_said_so() -> None:
    """Three 32x32 cases at 1 mm (public report MONAI #9095): an 8x8 lesion predicted one row
    off (HD95 1.0), a 6x6 lesion missed, a 2x2 false positive on an empty truth. With
    ``surface_failures: diagonal`` the two failures are in the mean as the diagonal,
    sqrt(2) * 32 = 45.255 mm: (1 + 2 * 45.255) / 3 = 30.503; the line said ``hd95_failed 2``
    as it does when they are left out of the mean (1.000)."""
    cases = []
    for name, truth_box, pred_box in (("a", (4, 12, 4, 12), (5, 13, 4, 12)),
                                      ("b", (10, 16, 10, 16), None),
                                      ("c", None, (20, 22, 20, 22))):  # fmt: skip
        truth, pred = np.zeros((32, 32), np.int64), np.zeros((32, 32), np.int64)
        for mask, box in ((truth, truth_box), (pred, pred_box)):
            if box is not None:
                mask[box[0] : box[1], box[2] : box[3]] = 1
        cases.append((name, truth, pred, (1.0, 1.0)))
    diagonal = (1 + 2 * 32 * 2**0.5) / 3
    by = {}
    for failures in ("exclude", "diagonal"):
        metrics = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0,
                                        failures=failures)  # fmt: skip
        by[failures] = headline_text(headline(metrics)).split("dice_dataset_macro ")[1]
    # pooled Dice by hand: TP 7 * 8, FP 8 + 4, FN 8 + 36: 112 / 168
    assert by["exclude"] == "0.667  hd95_mean_mm 1.000  hd95_failed 2"
    assert by["diagonal"] == f"0.667  hd95_mean_mm {diagonal:.3f}  hd95_failed_as_diagonal 2"
    assert f"{diagonal:.3f}" == "30.503"
