"""The spread of the folds' figures (``metrics.json`` ``cross_validation``), by hand: mean,
population standard deviation, least and greatest over the folds that have the figure."""

from __future__ import annotations

import math

import pytest

from workflows.run.fold_scores import spread as _spread


def test_the_spread_is_over_the_folds_that_have_the_figure() -> None:
    folds = [{"dice": 0.5, "hd95": 4.0}, {"dice": 0.9, "hd95": math.nan},
             {"dice": 0.7, "hd95": 2.0}, {"dice": 0.6, "hd95": None}]  # fmt: skip
    spread = _spread(folds)
    mean = (0.5 + 0.9 + 0.7 + 0.6) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in (0.5, 0.9, 0.7, 0.6)) / 4)
    assert spread["dice"] == {"mean": pytest.approx(mean), "std": pytest.approx(std),
                              "min": 0.5, "max": 0.9}  # fmt: skip
    assert spread["hd95"] == {"mean": 3.0, "std": 1.0, "min": 2.0, "max": 4.0}


def test_a_figure_no_fold_has_is_left_out() -> None:
    assert _spread([{"auc": None, "acc": 1.0}, {"auc": math.nan, "acc": 0.0}]) == {
        "acc": {"mean": 0.5, "std": 0.5, "min": 0.0, "max": 1.0}
    }
