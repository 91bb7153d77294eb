"""surface_metrics_per_class (what segmentation reports score) against distances worked out by
hand: its percentile, its symmetric mean over both directions' elements, and the background
class when asked for. Each was a surviving mutant: the function computes HD and MSD itself
rather than through hausdorff_distance / mean_surface_distance, whose tests did not reach it.

One row of 9 elements, spacing 0.5 mm along it. In a single row every foreground element is
a boundary element (the rows above and below are outside, background).
true class 1: columns 2, 3, 4; pred class 1: columns 4, 5.
  pred -> true: col 4 -> 0, col 5 -> 1 col = 0.5 mm            : [0, 0.5]
  true -> pred: col 2 -> 2 cols = 1.0, col 3 -> 0.5, col 4 -> 0 : [1.0, 0.5, 0]
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import surface_metrics_per_class

SPACING = (1.0, 0.5)


def _maps() -> tuple[np.ndarray, np.ndarray]:
    true = np.zeros((1, 9), np.int64)
    pred = np.zeros((1, 9), np.int64)
    true[0, 2:5] = 1
    pred[0, 4:6] = 1
    return true, pred


@pytest.mark.parametrize(
    ("percentile", "expected"),
    [
        (100.0, 1.0),  # max(0.5, 1.0)
        (95.0, 0.95),  # forward P95 of [0, .5] = .475; backward P95 of [0, .5, 1] = .95
        (50.0, 0.5),  # forward median .25; backward median .5
    ],
)
def test_the_percentile_asked_for_is_the_one_scored(percentile: float, expected: float) -> None:
    true, pred = _maps()
    got = surface_metrics_per_class(true, pred, 2, SPACING, percentile=percentile)
    assert got["hd95"] == [pytest.approx(expected)]


def test_mean_surface_distance_pools_both_directions_elements() -> None:
    """(0 + 0.5 + 1.0 + 0.5 + 0) / 5 = 0.4; the mean of the two directions' means would be
    (0.25 + 0.5) / 2 = 0.375."""
    true, pred = _maps()
    assert surface_metrics_per_class(true, pred, 2, SPACING)["msd"] == [pytest.approx(0.4)]


def test_background_is_scored_first_when_included() -> None:
    """Background: true columns {0, 1, 5, 6, 7, 8}, pred {0, 1, 2, 3, 6, 7, 8}.
    pred -> true: col 2 -> 0.5 (col 1), col 3 -> 1.0 (cols 1 or 5), others 0.
    true -> pred: col 5 -> 0.5 (col 6), others 0.  HD100 = 1.0, MSD = 2.0 / 13."""
    true, pred = _maps()
    got = surface_metrics_per_class(
        true, pred, 2, SPACING, include_background=True, percentile=100.0
    )
    assert got["hd95"] == [pytest.approx(1.0), pytest.approx(1.0)]
    assert got["msd"] == [pytest.approx(2.0 / 13), pytest.approx(0.4)]
