"""A segmentation evaluation of two foreground classes, worked out by hand: each case's macro
over both classes before the case mean, distance means over classes, failures summed over
classes, the percentile and the failure policy asked for. Mutants that survived the
one-class tests (tests/workflows/test_seg_averages.py): the Jaccard case mean of the first
class only, the summary's distance counts of the first class only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workflows.report.results import SegmentationCase, evaluate_segmentation

NAMES = ["background", "liver", "lesion"]


def _cases() -> list[SegmentationCase]:
    """8 x 8 label maps at 1 mm, two patients.

    A: liver truth row 0 cols 0-3, predicted cols 2-5 (TP 2, FP 2, FN 2: Dice 0.5, Jaccard
       1/3); lesion truth = prediction, one pixel (1, 1).
    B: liver truth = prediction, one pixel; lesion truth row 7 cols 0-2, none predicted
       (Dice 0, Jaccard 0, distance infinite: a failure).
    Liver distances in A (every pixel of a one-pixel-thick line is boundary): prediction to
    truth [0, 0, 1, 2], truth to prediction [2, 1, 0, 0]: HD100 = 2, HD95 = 1 + 0.85 = 1.85.
    """
    empty = np.zeros((8, 8), np.int64)
    a_true, a_pred, b_true, b_pred = (empty.copy() for _ in range(4))
    a_true[0, 0:4] = 1
    a_pred[0, 2:6] = 1
    a_true[5, 5] = a_pred[5, 5] = 2
    b_true[3, 3] = b_pred[3, 3] = 1
    b_true[7, 0:3] = 2
    return [
        SegmentationCase("a", a_true, a_pred, (1.0, 1.0), "p1", "a"),
        SegmentationCase("b", b_true, b_pred, (1.0, 1.0), "p2", "b"),
    ]


def test_case_means_take_each_case_macro_over_both_classes() -> None:
    m = evaluate_segmentation(_cases(), 3, NAMES, n_resamples=0, surface=False)
    s = m["summary"]
    # case A: Dice (0.5 + 1) / 2, Jaccard (1/3 + 1) / 2; case B: Dice and Jaccard (1 + 0) / 2
    assert s["dice_case_mean"] == pytest.approx((0.75 + 0.5) / 2)
    assert s["jaccard_case_mean"] == pytest.approx((2 / 3 + 0.5) / 2)
    assert m["per_class"]["lesion"]["jaccard_case_mean"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("percentile", "liver_a"),
    [(100.0, 2.0), (95.0, 1.85)],
)
def test_distance_summary_over_classes(percentile: float, liver_a: float) -> None:
    m = evaluate_segmentation(_cases(), 3, NAMES, n_resamples=0, percentile=percentile)
    s, liver, lesion = m["summary"], m["per_class"]["liver"], m["per_class"]["lesion"]
    assert liver["hd95_mean"] == pytest.approx((liver_a + 0.0) / 2)
    assert lesion["hd95_mean"] == 0.0  # B's failure left out (failures="exclude")
    assert s["hd95_mean"] == pytest.approx((liver_a / 2 + 0.0) / 2)
    # counts summed over the classes: liver A and B, lesion A; lesion B failed
    assert (s["hd95_n"], s["hd95_failed"], s["hd95_absent"]) == (3, 1, 0)
    assert (s["msd_n"], s["msd_failed"]) == (3, 1)


def test_failed_case_counts_as_the_diagonal_when_asked() -> None:
    m = evaluate_segmentation(_cases(), 3, NAMES, n_resamples=0, failures="diagonal")
    lesion = m["per_class"]["lesion"]
    # B's lesion counts as its image diagonal, sqrt(8^2 + 8^2) mm; A's lesion distance is 0
    assert lesion["hd95_mean"] == pytest.approx(math.sqrt(128) / 2)
    assert lesion["msd_mean"] == pytest.approx(math.sqrt(128) / 2)
    assert (lesion["hd95_n"], lesion["hd95_failed"]) == (2, 1)


def test_a_case_without_any_scored_class_is_counted_apart() -> None:
    """A third case, C, with neither class in truth nor prediction: its Dice is undefined
    (empty="nan"), so the case mean is over A and B, and n says 2 of the 3 cases."""
    empty = np.zeros((8, 8), np.int64)
    cases = [*_cases(), SegmentationCase("c", empty, empty.copy(), (1.0, 1.0), "p3", "c")]
    m = evaluate_segmentation(cases, 3, NAMES, n_resamples=0, surface=False)
    s = m["summary"]
    assert s["dice_case_mean"] == pytest.approx((0.75 + 0.5) / 2)
    assert (s["dice_case_n"], s["dice_case_absent"]) == (2, 1)
