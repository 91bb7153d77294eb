"""The ranges of a random crop's corner and an affine's shift on a plane that is not square.

A crop of ``(h, w)`` from ``(H, W)`` starts at a row in ``0..H-h`` and a column in ``0..W-w``,
each value possible; an affine's shift is ``[-t H, t H)`` rows and ``[-t W, t W)`` columns.
"""

from __future__ import annotations

import numpy as np

from pipeline.sample import Sample
from pipeline.stages import RandomAffine, RandomCrop


def test_a_crop_corner_reaches_every_row_and_column() -> None:
    sample = Sample(np.zeros((1, 6, 12), np.float32))
    stage = RandomCrop(shape=[4, 4])
    rng = np.random.default_rng(0)
    starts = np.array([stage.draw(sample, rng)["start"] for _ in range(600)])
    assert set(starts[:, 0].tolist()) == {0, 1, 2}  # 6 - 4 + 1 rows
    assert set(starts[:, 1].tolist()) == set(range(9))  # 12 - 4 + 1 columns


def test_an_affine_shift_is_a_fraction_of_each_axis() -> None:
    sample = Sample(np.zeros((1, 40, 8), np.float32))
    stage = RandomAffine(p=1.0, rotation=0.0, scale=0.0, translate=0.25)
    rng = np.random.default_rng(0)
    shifts = np.array([stage.draw(sample, rng)["translate"] for _ in range(400)])
    rows, cols = np.abs(shifts[:, 0]), np.abs(shifts[:, 1])
    assert rows.max() < 10.0 and rows.max() > 9.0  # [-10, 10): 0.25 of 40 rows
    assert cols.max() < 2.0 and cols.max() > 1.8  # [-2, 2): 0.25 of 8 columns
