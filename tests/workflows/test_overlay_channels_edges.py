"""Edges of the overlays' channel handling (:mod:`workflows.report.plots`): colour scaled from
the image's minimum, a constant colour image, one channel unsaid, and a volume without truth
shown at its slice of most predicted foreground. Expected values by hand."""

from __future__ import annotations

import numpy as np

from workflows.report import plots


def test_rgb_is_scaled_from_its_minimum() -> None:
    image = np.full((3, 1, 2), 10.0)
    image[2, 0, 1] = 30.0  # values 10..30: 10 -> 0, 30 -> 1
    shown, note = plots._plane(image)
    assert shown.tolist() == [[[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]] and note == ""


def test_a_constant_rgb_image_is_black() -> None:
    shown, _ = plots._plane(np.full((3, 2, 2), 7.0))
    assert shown.shape == (2, 2, 3) and not shown.any()


def test_one_channel_is_grey_without_a_note() -> None:
    image = np.arange(6.0).reshape(1, 2, 3)
    shown, note = plots._plane(image)
    assert note == "" and np.array_equal(shown, image[0])


def test_without_truth_the_slice_of_most_prediction_is_shown() -> None:
    image = np.arange(3 * 2 * 2, dtype=np.float64).reshape(1, 3, 2, 2)
    true = np.zeros((3, 2, 2), np.uint8)
    pred = true.copy()
    pred[1, 0, 0], pred[2] = 1, 1  # slice 2: 4 pixels, slice 1: 1
    shown, _, p, note = plots._pick_slice(image, true, pred)
    assert np.array_equal(shown, image[0, 2]) and np.array_equal(p, pred[2]) and note == ""
