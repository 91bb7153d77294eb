"""Model-grid maps back on the source pixels: what a crop cut away comes back as background
through ``on_source_pixels`` (the path of ``radpipe predict`` and the evaluation): class 0's
probability 1, every other class's 0; a foreground crop goes back where it was cut."""

from __future__ import annotations

import numpy as np

import pipeline.stages  # noqa: F401  (registers the stages)
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from workflows.run.invert import invert, on_source_pixels


def test_cut_away_pixels_come_back_as_background_probabilities() -> None:
    raw = Sample(np.zeros((1, 2, 6), np.float32), meta={"id": "x", "spacing": (1.0, 1.0)})
    pipe = Pipeline.from_config([{"type": "crop_or_pad", "shape": [2, 4]}])
    probs = np.stack([np.full((2, 4), 0.2), np.full((2, 4), 0.5), np.full((2, 4), 0.3)])
    back, records = on_source_pixels(probs.astype(np.float32), pipe, raw)
    assert [r["op"] for r in records] == ["crop_or_pad"]
    assert back.shape == (3, 2, 6)
    np.testing.assert_allclose(back[:, 0, 0], [1.0, 0.0, 0.0])  # columns 0 and 5 cut away
    np.testing.assert_allclose(back[:, 1, 5], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(back[:, 0, 1:5], probs[:, 0, :])


def test_a_foreground_crop_goes_back_to_its_row_and_column() -> None:
    """A crop_foreground box of 2 x 3 from row 1, column 4 of a 6 x 8 image (not on the
    diagonal, so rows and columns cannot be swapped unseen)."""
    record = {"stage": "crop_foreground", "op": "crop", "in": [6, 8], "out": [2, 3],
              "start": [1, 4]}  # fmt: skip
    back = invert(np.ones((2, 3), np.int64), [record], fill=0)
    expected = np.zeros((6, 8), np.int64)
    expected[1:3, 4:7] = 1
    np.testing.assert_array_equal(back, expected)
