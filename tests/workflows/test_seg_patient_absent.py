"""Patients with no Dice (every scored class absent from their truth and prediction) are left out
of ``dice_patient_mean``; until 2026-12-03 how many was said nowhere (the case mean had
``dice_case_absent``, the patient mean nothing). Now ``dice_patient_n`` and
``dice_patient_absent`` stand beside it in ``metrics.json``, the policy says the rule, and the
report's card says how many patients it averages."""

from __future__ import annotations

import numpy as np
import pytest

from workflows.report.results import SegmentationCase, evaluate_segmentation
from workflows.report.sections import cards


def _cases() -> list[SegmentationCase]:
    """8 x 8 lesion masks: p1 Dice 2*2/8 = 0.5; p2 truth 3 pixels, none predicted: Dice 0;
    p3 and p4 no lesion in truth or prediction: no Dice (empty="nan")."""
    empty = np.zeros((8, 8), np.int64)
    a_true, a_pred, c_true = empty.copy(), empty.copy(), empty.copy()
    a_true[0, 0:4] = 1
    a_pred[0, 2:6] = 1
    c_true[7, 0:3] = 1
    return [
        SegmentationCase("a", a_true, a_pred, (1.0, 1.0), "p1", "a"),
        SegmentationCase("c", c_true, empty, (1.0, 1.0), "p2", "c"),
        SegmentationCase("d", empty, empty.copy(), (1.0, 1.0), "p3", "d"),
        SegmentationCase("e", empty, empty.copy(), (1.0, 1.0), "p4", "e"),
    ]


def test_patients_left_out_of_the_patient_mean_are_counted_and_said() -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0,
                              surface=False)  # fmt: skip
    s = m["summary"]
    assert s["dice_patient_mean"] == pytest.approx((0.5 + 0.0) / 2)
    assert (s["dice_patient_n"], s["dice_patient_absent"]) == (2, 2)
    assert (s["dice_case_n"], s["dice_case_absent"]) == (2, 2)
    assert "dice_patient_absent" in m["policy"]["absent_cases"]
    shown = cards("segmentation", m)
    assert "2 of 4 patients averaged; 2 left out (no scored class in truth or prediction" in shown
    assert "2 of 4 images averaged; 2 left out" in shown  # the case mean's card too


def test_none_left_out_under_empty_one() -> None:
    """empty="one" (MONAI ignore_empty=False): the empty patients score 1 and are averaged."""
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0,
                              surface=False, empty="one")  # fmt: skip
    s = m["summary"]
    assert s["dice_patient_mean"] == pytest.approx((0.5 + 0.0 + 1 + 1) / 4)
    assert (s["dice_patient_n"], s["dice_patient_absent"]) == (4, 0)
    assert "left out" not in cards("segmentation", m)
