"""The spread of the folds' figures (``metrics.json`` ``cross_validation``), by hand: mean,
population standard deviation, least and greatest over the folds that have the figure, and
how many do (``n``; the report's ``folds`` column)."""

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
                              "min": 0.5, "max": 0.9, "n": 4}  # fmt: skip
    assert spread["hd95"] == {"mean": 3.0, "std": 1.0, "min": 2.0, "max": 4.0, "n": 2}


def test_a_figure_no_fold_has_is_left_out() -> None:
    assert _spread([{"auc": None, "acc": 1.0}, {"auc": math.nan, "acc": 0.0}]) == {
        "acc": {"mean": 0.5, "std": 0.5, "min": 0.0, "max": 1.0, "n": 2}
    }


def test_a_figure_of_one_fold_has_no_spread_and_says_its_count() -> None:
    """A fold model that never calls the positive class has no precision: the other fold's
    0.333 was given as mean 0.333, std 0.000 over the folds, as if both folds agreed."""
    from workflows.report.results import to_json_safe
    from workflows.report.sections import cross_validation_section

    folds = [{"precision": 1 / 3, "acc": 0.375}, {"precision": None, "acc": 0.5}]
    spread = _spread(folds)
    assert spread["precision"]["n"] == 1 and math.isnan(spread["precision"]["std"])
    assert spread["precision"]["mean"] == pytest.approx(1 / 3)
    assert spread["acc"] == {"mean": 0.4375, "std": 0.0625, "min": 0.375, "max": 0.5, "n": 2}
    safe = to_json_safe({"folds": folds, "cross_validation": spread})  # as metrics.json holds it
    html = cross_validation_section(safe)
    assert "<td>precision</td><td>0.333</td><td>–</td><td>0.333</td><td>–</td>" in html
    assert "<td>1 of 2</td>" in html and "<td>2 of 2</td>" in html
    assert "over the folds that have the figure" in html
