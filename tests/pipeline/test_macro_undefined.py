"""A specificity (or NPV) of 0/0, the class being every test case (no negative case to
clear), counted 0 in its macro mean: a perfect model of a one-class test set had
``specificity_macro`` 0.000. It is left out now, as a class in neither truth nor prediction
is, and ``macro_classes`` says which classes each mean holds. An undefined rate that is a
failure (precision of a class never predicted, NPV where every case was called the class
though others are in the truth) still counts 0 (``zero_division=0``). Expected values by
hand from the cases, and scikit-learn's recall/precision where it has the figure."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import multilabel_confusion_matrix, recall_score

from pipeline.metrics import confusion_matrix, macro_classes, rates_from_confusion


def _rates(true: list[int], pred: list[int], k: int) -> dict[str, object]:
    return rates_from_confusion(confusion_matrix(np.array(true), np.array(pred), k))


def test_a_perfect_model_of_one_class_has_no_macro_specificity() -> None:
    r = _rates([1, 1, 1, 1], [1, 1, 1, 1], 2)
    # class 1: TN + FP = 0 (no negative case); class 0: in neither truth nor prediction
    mcm = multilabel_confusion_matrix([1, 1, 1, 1], [1, 1, 1, 1], labels=[0, 1])
    assert mcm[1, 0].sum() == 0  # scikit-learn's own counts: [[TN, FP], ...] of class 1
    assert math.isnan(r["specificity_macro"])  # type: ignore[arg-type]  # was 0.0
    assert math.isnan(r["npv_macro"])  # type: ignore[arg-type]  # was 0.0
    assert r["sensitivity_macro"] == 1.0 and r["precision_macro"] == 1.0


def test_the_class_of_every_case_is_left_out_of_specificity_macro() -> None:
    true, pred = [2, 2, 2, 2], [2, 2, 0, 2]
    r = _rates(true, pred, 3)
    # by hand: class 0 TN 3, FP 1 -> 0.75; class 1 in neither; class 2 has no negative case
    assert r["specificity_macro"] == pytest.approx(0.75)  # was (0.75 + 0) / 2
    # NPV: class 0 3/3; class 2 0/1 (one case called 0, of class 2): both defined
    assert r["npv_macro"] == pytest.approx(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = recall_score(true, pred, labels=[0, 2], average="macro", zero_division=0)
    assert r["sensitivity_macro"] == pytest.approx(expected)  # 0.375: unchanged
    kept = macro_classes(confusion_matrix(np.array(true), np.array(pred), 3))
    assert kept["specificity"].tolist() == [True, False, False]
    assert kept["sensitivity"].tolist() == [True, False, True]


def test_an_npv_never_called_counts_zero_when_negatives_exist() -> None:
    """Every case called class 1 though a class-0 case is in the truth: class 1's NPV is
    0/0 and a failure, as precision of a class never predicted; it counts 0."""
    r = _rates([0, 1, 1], [1, 1, 1], 2)
    # class 0: NPV = TN / (TN + FN) = 2 / 3; class 1: undefined, counted 0
    assert r["npv_macro"] == pytest.approx((2 / 3 + 0) / 2)
    # class 1 specificity 0 / 1 (its negative was called 1), class 0 specificity 2 / 2
    assert r["specificity_macro"] == pytest.approx(0.5)
