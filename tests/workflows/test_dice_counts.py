"""The Dice case mean says how many cases it averages: a case whose every scored class is
absent from truth and prediction has no Dice under ``empty="nan"`` (MONAI, nnU-Net) and is
left out of the mean; medpy #106 / pymia #16 score it 1 instead (``empty="one"``). Either
way the reader is told (as for HD95's failed cases, reproduction 10)."""

from __future__ import annotations

import numpy as np
import pytest

from workflows.report.results import evaluate_segmentation
from workflows.run.runner import headline


def _cases() -> list[tuple[str, np.ndarray, np.ndarray, tuple[float, float]]]:
    a = np.zeros((8, 8), np.int64)
    a[2:6, 2:6] = 1  # 16 pixels
    half = np.zeros((8, 8), np.int64)
    half[2:6, 2:4] = 1  # 8 of them: Dice 2 * 8 / 24
    empty = np.zeros((8, 8), np.int64)
    return [("a", a, a, (1.0, 1.0)), ("b", empty, empty, (1.0, 1.0)), ("c", a, half, (1.0, 1.0))]


def test_case_mean_counts_the_cases_it_averages() -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0)
    s = m["summary"]
    assert s["dice_case_mean"] == pytest.approx((1.0 + 2 * 8 / 24) / 2)  # over a and c
    assert (s["dice_case_n"], s["dice_case_absent"]) == (2, 1)
    printed = headline({"summary": s, "distance_unit": "mm"})
    assert printed["dice_case_absent"] == 1.0
    one = evaluate_segmentation(_cases(), 2, ["background", "lesion"], empty="one",
                                n_resamples=0)["summary"]  # fmt: skip
    assert one["dice_case_mean"] == pytest.approx((1.0 + 1.0 + 2 * 8 / 24) / 3)
    assert (one["dice_case_n"], one["dice_case_absent"]) == (3, 0)
    assert "dice_case_absent" not in headline({"summary": one})
