"""Reproduction 09's rule for segmentation: a NaN probability map is an error, never a mask.

``numpy.argmax`` of a NaN map is class 0 everywhere, so a sample the model overflowed on was
scored as a model that missed every structure (Dice 0), and the figures were written as if
it had answered.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.metrics import NonFiniteScoresError
from workflows.run.config import RunConfig
from workflows.run.evaluate import Predictions, _score


def test_nan_probability_maps_stop_the_segmentation_scoring(tmp_path: Path) -> None:
    raw = {"task": "segmentation", "data": {"source": "x"}, "model": {"type": "mlp_segmenter"},
           "evaluate": {"bootstrap": 0}, "report": {"images": False}}  # fmt: skip
    config = RunConfig.model_validate(raw)
    truth = np.zeros((2, 4, 4), np.int64)
    truth[:, 1:3, 1:3] = 1
    probs = np.stack([np.eye(2, dtype=np.float32)[truth[0]].transpose(2, 0, 1)] * 2)
    probs[1, :, 0, 0] = np.nan  # one pixel of the second sample
    pred = Predictions(probs, truth, ["a", "b"], list(probs), [{}, {}], set(), [None, None])
    study = SimpleNamespace(split=[], class_names=[])
    with pytest.raises(NonFiniteScoresError, match="1 of 2 samples have non-finite"):
        _score(config, study, pred, None, None)  # type: ignore[arg-type]
