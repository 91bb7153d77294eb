"""Segmentation scored by :func:`workflows.run.source_grid.score_segmentation` against
figures worked out by hand (mutation sweep mut88: each mutant named here survived the
segmentation evaluation tests of ``tests/workflows``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from workflows.run.config import RunConfig
from workflows.run.evaluate import Predictions
from workflows.run.source_grid import SourceCase, score_segmentation


def _config(**more: Any) -> RunConfig:
    raw = {"task": "segmentation", "data": {"source": "x"}, "model": {"type": "mlp_segmenter"},
           "evaluate": {"bootstrap": 0}, "report": {"images": False}}  # fmt: skip
    return RunConfig.model_validate(raw | more)


def test_postprocess_acts_on_the_source_pixels_labels() -> None:
    """Kills ``post.apply_all(c.labels for c in pred.source)`` replaced by the labels as they
    are in ``source_grid.score_segmentation`` (a run whose stages change the grid scored its
    source-pixel masks without its ``postprocess``). Truth: a 2x2 square; the models' label
    map on the source pixels: the square and a stray pixel, which ``largest_component``
    removes: Dice 1 (without it 2*4 / (4 + 5) = 8/9)."""
    truth = np.zeros((6, 6), np.int64)
    truth[1:3, 1:3] = 1
    labels = truth.astype(np.uint8)
    labels[5, 5] = 1
    probs = np.stack([1.0 - truth, truth])[None].astype(np.float32)  # (1, 2, 6, 6) model grid
    pred = Predictions(probs, truth[None].copy(), ["a"], [np.zeros((1, 6, 6))], [{}],
                       regions=[None])  # fmt: skip
    pred.source = [SourceCase(truth, labels, None)]
    metrics, maps = score_segmentation(
        _config(postprocess=[{"type": "largest_component"}]), pred, ["p"], {"n_resamples": 0}
    )
    assert metrics["summary"]["dice_case_mean"] == pytest.approx(1.0)
    assert metrics["postprocess"]["pixels_changed"] == 1
    assert maps[0][5, 5] == 0


def test_padding_is_background_in_the_prediction_on_the_model_grid() -> None:
    """Kills ``labels[i][~region] = 0`` dropped in ``source_grid.score_segmentation`` (what
    ``crop_or_pad``/``fit_depth`` padded scored as image where the figures are on the model
    grid). A 4x4 map whose last column is padding; truth: the 2x2 square at rows 1-2,
    columns 0-1; the model says class 1 there and on the whole padded column: Dice 1 on the
    image (the mutant: 2*4 / (4 + 8) = 2/3)."""
    truth = np.zeros((4, 4), np.int64)
    truth[1:3, 0:2] = 1
    said = truth.copy()
    said[:, 3] = 1
    region = np.ones((4, 4), bool)
    region[:, 3] = False
    probs = np.stack([1.0 - said, said])[None].astype(np.float32)  # (1, 2, 4, 4)
    pred = Predictions(probs, truth[None].copy(), ["a"], [np.zeros((1, 4, 4))], [{}],
                       regions=[region])  # fmt: skip
    metrics, maps = score_segmentation(_config(), pred, ["p"], {"n_resamples": 0})
    assert metrics["summary"]["dice_case_mean"] == pytest.approx(1.0)
    assert maps[0][:, 3].tolist() == [0, 0, 0, 0]


def test_distances_on_the_source_pixels_are_in_the_source_spacing() -> None:
    """Kills the source cases scored in the model grid's spacing (``c.spacing`` ->
    ``pred.meta[i]["spacing"]`` in ``source_grid.score_segmentation``: a resize of the images
    changes the spacing, and distances in mm are then off by its factor). Source pixels
    1 mm x 2 mm (row, column); truth: the 2x2 square at columns 1-2, prediction the same
    shifted one column right. Half of each boundary's pixels are one column (2 mm) from the
    other boundary, the rest on it: HD95 2 mm, mean surface distance 1 mm (the model grid's
    0.5 mm pixels said 0.5 and 0.25)."""
    truth = np.zeros((6, 6), np.int64)
    truth[1:3, 1:3] = 1
    labels = np.zeros((6, 6), np.uint8)
    labels[1:3, 2:4] = 1
    probs = np.stack([1.0 - truth, truth])[None].astype(np.float32)
    pred = Predictions(probs, truth[None].copy(), ["a"], [np.zeros((1, 6, 6))],
                       [{"spacing": (0.5, 0.5)}], regions=[None])  # fmt: skip
    pred.source = [SourceCase(truth, labels, (1.0, 2.0))]
    metrics, _ = score_segmentation(_config(), pred, ["p"], {"n_resamples": 0})
    assert metrics["distance_unit"] == "mm"
    assert metrics["summary"]["hd95_mean"] == pytest.approx(2.0)
    assert metrics["summary"]["msd_mean"] == pytest.approx(1.0)
