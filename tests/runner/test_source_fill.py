"""What a crop cut away comes back as background through ``on_source_pixels`` (the path of
``radpipe predict`` and the evaluation): class 0's probability 1, every other class's 0."""

from __future__ import annotations

import numpy as np

import pipeline.stages  # noqa: F401  (registers the stages)
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from workflows.run.invert import on_source_pixels


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
