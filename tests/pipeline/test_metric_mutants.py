"""Metric edges that hand-made mutants (mutation sweep eval126) changed without a test
noticing: the accumulator's case mean with an empty case, the spacing kept when a flat middle
axis is dropped, the background's NSD when asked for, the bootstrap's percentile bounds,
DeLong's lower bound clipped at 0, the multi-class Brier score over every class, the
failure policy's worst value, a 0/255 mask, Youden's threshold never the ROC origin's, rows of
probabilities summing past 1, and the cases of every process after a reduce.
Each expected value is worked out by hand (or by numpy's quantile) in the comment beside it.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import (
    ConfusionAccumulator,
    bootstrap_ci,
    calibration_summary,
    choose_threshold,
    delong_roc_ci,
    hausdorff_distance,
    summarize_distances,
    surface_dice_per_class,
)


def test_case_mean_skips_a_case_with_no_scored_class() -> None:
    # case a: class 1 TP 1, FN 1 -> Dice 2/3; class 2 in neither mask -> NaN; macro 2/3.
    # case b: all background -> classes 1 and 2 NaN -> no Dice (empty="nan"), skipped.
    acc = ConfusionAccumulator(3, per_case=True, include_background=False)
    acc.update(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))
    acc.update(np.zeros(4, np.int64), np.zeros(4, np.int64))
    out = acc.compute()
    assert np.isnan(out["per_case"]["dice_macro"][1])
    # Mutation: a plain mean over the cases (NaN).
    assert out["dice_case_mean"] == pytest.approx(2 / 3)
    assert out["jaccard_case_mean"] == pytest.approx(1 / 2)  # TP 1 / (TP 1 + FN 1)


def test_a_flat_middle_axis_keeps_the_spacing_of_the_other_two() -> None:
    # (3, 1, 4), spacing (2, 5, 1) mm: the flat axis 1 is dropped, leaving (2, 1) mm.
    # One pixel at (0, 0, 0) against one at (2, 0, 0): 2 rows of 2 mm = 4 mm.
    true = np.zeros((3, 1, 4), bool)
    pred = np.zeros((3, 1, 4), bool)
    true[0, 0, 0] = pred[2, 0, 0] = True
    # Mutation: the last two spacings kept (5, 1): 10 mm.
    assert hausdorff_distance(true, pred, (2.0, 5.0, 1.0), percentile=100) == pytest.approx(4.0)


def test_surface_dice_of_the_background_when_asked_for() -> None:
    # One row of 9 (every element a boundary one; outside the array is no class).
    # class 1: truth columns 2-4, prediction 4-6: distances [0, 1, 2] each way, 4 of 6 <= 1.
    # class 0: truth {0, 1, 5, 6, 7, 8}, prediction {0, 1, 2, 3, 7, 8}:
    #   pred -> true [0, 0, 1, 2, 0, 0], true -> pred [0, 0, 2, 1, 0, 0]: 10 of 12 <= 1.
    true = np.zeros((1, 9), np.int64)
    pred = np.zeros((1, 9), np.int64)
    true[0, 2:5] = 1
    pred[0, 4:7] = 1
    values = surface_dice_per_class(true, pred, 2, 1.0, include_background=True)
    # Mutation: the background left out whatever include_background says.
    assert values == pytest.approx([10 / 12, 4 / 6])
    assert surface_dice_per_class(true, pred, 2, 1.0) == pytest.approx([4 / 6])


def test_bootstrap_bounds_are_the_percentiles_of_the_resampled_figures() -> None:
    # The statistic records every figure it gives: the first call is on all cases, the rest
    # on the resamples, whose 2.5th and 97.5th percentiles (numpy's default linear
    # interpolation) are the bounds of the 95% percentile interval.
    values = np.array([0.1, 0.9, 0.4, 0.7, 0.2, 1.0, 0.55, 0.3, 0.8, 0.05, 0.6, 0.35])
    seen: list[float] = []

    def mean(idx: np.ndarray) -> float:
        seen.append(float(values[idx].mean()))
        return seen[-1]

    ci = bootstrap_ci(mean, [f"p{i}" for i in range(values.size)], n_resamples=200, seed=3)
    resampled = np.array(seen[1:])
    assert resampled.size == 200 and seen[0] == pytest.approx(values.mean())
    # Mutation: the lower bound at the 1.25th percentile (alpha / 2 halved again).
    assert ci["low"] == pytest.approx(np.quantile(resampled, 0.025))
    assert ci["high"] == pytest.approx(np.quantile(resampled, 0.975))


def test_delong_interval_is_clipped_to_zero() -> None:
    # positives [0.65, 0.2], negatives [0.9, 0.6]: each positive outranks 1/2 and 0 of the
    # negatives (AUC 0.25); each negative lies below 0 and 1/2 of the positives. Variances
    # (ddof 1) 0.125 each: se = sqrt(0.125 / 2 + 0.125 / 2) = 0.35355.
    ci = delong_roc_ci([0, 0, 1, 1], [0.9, 0.6, 0.65, 0.2])
    assert ci["estimate"] == pytest.approx(0.25)
    assert ci["se"] == pytest.approx(np.sqrt(0.125))
    # Mutation: the lower bound unclipped (0.25 - 1.96 * 0.354 = -0.443).
    assert ci["low"] == 0.0
    assert ci["high"] == pytest.approx(0.25 + 1.959964 * np.sqrt(0.125))


def test_multi_class_brier_sums_the_squared_errors_of_every_class() -> None:
    # case 1, true 0: (0.7 - 1)^2 + 0.2^2 + 0.1^2 = 0.14; case 2, true 2: 0.2^2 + 0.5^2 +
    # (0.3 - 1)^2 = 0.78; mean 0.46 (Brier 1950; in [0, 2]).
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3]])
    # Mutation: the top-class Brier ((0.7 - 1)^2 + 0.5^2) / 2 = 0.17.
    assert calibration_summary(np.array([0, 2]), probs)["brier"] == pytest.approx(0.46)


def test_failures_take_their_own_worst_value_and_absent_cases_none() -> None:
    # [1, inf (failed), NaN (absent)], worst [10, 20, 30]: the failure scores 20, the absent
    # case stays out: mean (1 + 20) / 2.
    s = summarize_distances([1.0, np.inf, np.nan], failures="diagonal", worst=[10.0, 20.0, 30.0])
    # Mutation: the worst value put in for the absent case instead ((1 + 30) / 2).
    assert (s["mean"], s["n"], s["failed"], s["absent"]) == (10.5, 2, 1, 1)


def test_a_0_255_mask_is_foreground_where_nonzero() -> None:
    # one row: truth columns 2-4, prediction 4-6 (as 255): the farthest is 2 columns each way
    true = np.zeros((1, 9), np.uint8)
    pred = np.zeros((1, 9), np.uint8)
    true[0, 2:5] = 255
    pred[0, 4:7] = 255
    # Mutation: only the value 1 read as foreground (both empty: NaN).
    assert hausdorff_distance(true, pred, percentile=100) == 2.0


def test_youden_of_scores_that_do_not_separate_picks_a_real_threshold() -> None:
    # scores ranked reversed: thresholds 0.9, 0.8, 0.2, 0.1 give J = tpr - fpr of
    # 0 - 1/2, 0 - 1, 1/2 - 1, 1 - 1 = 0: the best is 0.1 (every case called positive).
    out = choose_threshold(np.array([0, 0, 1, 1]), np.array([0.8, 0.9, 0.1, 0.2]))
    # Mutation: the ROC curve's origin kept, whose threshold inf (J = 0 too) comes first.
    assert (out["threshold"], out["sensitivity"], out["specificity"]) == (0.1, 1.0, 0.0)
    assert "note" in out


def test_probabilities_whose_rows_sum_past_one_are_refused() -> None:
    # 0.6 + 0.45 = 1.05: scores, not probabilities (a float32 softmax is off by ~1e-7)
    # Mutation: a tolerance of 0.1 let them through.
    with pytest.raises(ValueError, match="1 of 2 rows sum to"):
        calibration_summary(np.array([0, 1]), np.array([[0.6, 0.45], [0.5, 0.5]]))


def test_reduce_keeps_the_cases_of_every_process() -> None:
    # two "processes": this one saw case a (1 pixel, right), the other case b (1 pixel, wrong)
    here, other = ConfusionAccumulator(2, per_case=True), ConfusionAccumulator(2, per_case=True)
    here.update(np.array([1]), np.array([1]), ids=["a"])
    other.update(np.array([1]), np.array([0]), ids=["b"])
    theirs = list(zip(other.case_ids, other.case_counts, strict=True))
    here.reduce(lambda counts: counts + other.counts, lambda mine: [mine, theirs])
    out = here.compute()
    assert out["confusion_matrix"] == [[0, 0], [1, 1]]
    # Mutation: only the first process's cases kept after the gather.
    assert out["per_case"]["ids"] == ["a", "b"]
    assert out["per_case"]["dice"][1][1] == 0.0  # b: class 1 missed, Dice 0
