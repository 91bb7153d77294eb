"""The three averages of a segmentation evaluation, worked out by hand on three small cases:
the case mean (each volume's Dice, then their mean), the patient mean (each patient's mean of
their volumes, then the mean over patients) and the dataset figure (counts pooled over all
volumes). Each assertion names the mutation it kills: one average computed as another."""

from __future__ import annotations

import numpy as np
import pytest

from workflows.report.results import SegmentationCase, evaluate_segmentation


def _cases() -> list[SegmentationCase]:
    """Lesion masks (8 x 8, spacing 1 mm): A and B of patient p1, C of patient p2.

    A: truth 4 pixels, prediction 4 pixels, 2 shared: Dice 2*2/8 = 0.5, Jaccard 2/6.
    B: truth = prediction, 1 pixel: Dice 1, Jaccard 1.
    C: truth 3 pixels, nothing predicted: Dice 0, Jaccard 0.
    """
    empty = np.zeros((8, 8), np.int64)
    a_true, a_pred, b, c_true = empty.copy(), empty.copy(), empty.copy(), empty.copy()
    a_true[0, 0:4] = 1
    a_pred[0, 2:6] = 1
    b[5, 5] = 1
    c_true[7, 0:3] = 1
    return [
        SegmentationCase("a", a_true, a_pred, (1.0, 1.0), "p1", "a"),
        SegmentationCase("b", b, b.copy(), (1.0, 1.0), "p1", "b"),
        SegmentationCase("c", c_true, empty, (1.0, 1.0), "p2", "c"),
    ]


def test_case_patient_and_pooled_dice_and_jaccard() -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0,
                              surface=False)  # fmt: skip
    s, lesion = m["summary"], m["per_class"]["lesion"]
    # pooled: TP 2 + 1, FP 2, FN 2 + 3: Dice 2*3 / (2*3 + 2 + 5), Jaccard 3 / (3 + 2 + 5)
    assert s["dice_dataset_macro"] == pytest.approx(6 / 13)
    assert lesion["dice_dataset"] == pytest.approx(6 / 13)
    assert s["jaccard_dataset_macro"] == pytest.approx(0.3)
    # Mutation: the per-class case mean given as the pooled Dice (6/13).
    assert lesion["dice_case_mean"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert lesion["jaccard_case_mean"] == pytest.approx((2 / 6 + 1 + 0) / 3)
    assert s["dice_case_mean"] == pytest.approx(0.5)
    # Mutation: the Jaccard case mean given as the pooled Jaccard (0.3).
    assert s["jaccard_case_mean"] == pytest.approx(4 / 9)
    # Mutation: a patient's Dice taken from one of their volumes (p1: 0.5, the mean 0.25).
    by_patient = {p["id"]: p for p in m["per_patient"]}
    assert by_patient["p1"]["dice_macro"] == pytest.approx(0.75)
    assert by_patient["p1"]["dice"]["lesion"] == pytest.approx(0.75)
    assert by_patient["p1"]["num_volumes"] == 2 and by_patient["p2"]["dice_macro"] == 0.0
    assert s["dice_patient_mean"] == pytest.approx(0.375)


def test_intervals_resample_the_patients_of_the_cases() -> None:
    """Mutation: the bootstrap statistic computed on all cases whatever the resample drew (a
    zero-width interval at the estimate). Two patients give three resamples, each drawn with
    probability 1/4 or more in 400: {p1, p1} (case mean 0.75, pooled Dice 12/20), {p1, p2}
    (0.5, 6/13) and {p2, p2} (0, 0); the 95% interval runs from the lowest to the highest."""
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=400,
                              surface=False)  # fmt: skip
    ci = m["intervals"]
    assert (ci["dice_case_mean"]["low"], ci["dice_case_mean"]["high"]) == (0.0, 0.75)
    assert ci["dice_dataset_macro"]["low"] == 0.0
    assert ci["dice_dataset_macro"]["high"] == pytest.approx(0.6)
    assert ci["dice_case_mean"]["n_groups"] == 2


def test_distance_summary_is_the_mean_over_the_classes() -> None:
    """Mutation: the summary HD95 / MSD taken from the first scored class only. Organ found
    exactly (distance 0); the one-pixel lesion predicted 3 pixels (3 mm) to its right (every
    surface distance 3 mm): per class 0 and 3, summary (0 + 3) / 2."""
    true = np.zeros((8, 8), np.int64)
    true[4:7, 4:7] = 1  # organ
    pred = true.copy()
    true[1, 1], pred[1, 4] = 2, 2  # lesion
    case = SegmentationCase("a", true, pred, (1.0, 1.0), "p1", "a")
    m = evaluate_segmentation([case], 3, ["background", "organ", "lesion"], n_resamples=0)
    for key in ("hd95", "msd"):
        assert m["per_class"]["organ"][f"{key}_mean"] == 0.0
        assert m["per_class"]["lesion"][f"{key}_mean"] == pytest.approx(3.0)
        assert m["summary"][f"{key}_mean"] == pytest.approx(1.5)
