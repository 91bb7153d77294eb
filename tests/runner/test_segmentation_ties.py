"""A segmentation's voxels whose top probability ties between classes (0.5 / 0.5) are counted
and said: ``prediction_ties`` in metrics.json, the rule with the count in
``policy.prediction``, a warning, and the report's Evaluated card (classification counted its
tied cases; the voxels the argmax gave to the lower class index went unsaid). Counted on the
grid that is scored: the model grid without its padding, or the source pixels (the mean of the
fold models moved back). Expected counts by hand."""

from __future__ import annotations

import logging
import re
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pipeline.stages  # noqa: F401  (registers the stages)
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from workflows.report.results import write_metrics, write_report
from workflows.run.config import RunConfig
from workflows.run.evaluate import Predictions
from workflows.run.source_grid import on_source, score_segmentation
from workflows.run.ties import say_ties


def _config() -> RunConfig:
    raw = {"task": "segmentation", "data": {"source": "x"}, "model": {"type": "mlp_segmenter"},
           "evaluate": {"bootstrap": 0}, "report": {"images": False}}  # fmt: skip
    return RunConfig.model_validate(raw)


def _probs(tied: list[tuple[int, int]]) -> np.ndarray:
    p1 = np.full((4, 4), 0.2)
    p1[1:3, 1:3] = 0.9
    for y, x in tied:
        p1[y, x] = 0.5
    return np.stack([1 - p1, p1]).astype(np.float32)  # (K=2, 4, 4)


def test_ties_on_the_model_grid_are_counted_outside_the_padding(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    probs = np.stack([_probs([(0, 0), (0, 1), (3, 3)]), _probs([])])  # 3 tied voxels, 1 image
    region = np.ones((4, 4), bool)
    region[3] = False  # row 3 is padding: its tie is not scored, and not counted
    truth = np.zeros((2, 4, 4), np.int64)
    truth[:, 1:3, 1:3] = 1
    pred = Predictions(probs, truth, ["a", "b"], [np.zeros((1, 4, 4))] * 2, [{}, {}],
                       regions=[region, None])  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        metrics, labels = score_segmentation(_config(), pred, ["p1", "p2"], {"n_resamples": 0})
    assert (metrics["prediction_ties"], metrics["prediction_ties_samples"]) == (2, 1)
    assert metrics["policy"]["prediction"].endswith(": 2 voxels in 1 of 2 samples")
    assert "lower class index (background first)" in metrics["policy"]["prediction"]
    assert labels[0][0, 0] == 0  # a tie is called background, the lower index
    assert not caplog.records  # said once per run, with each fold's, by say_ties
    assert say_ties("segmentation", metrics, [], 2) == (
        "2 voxels in 1 of 2 test samples tie on their top probability: each is called the "
        "lower class (background first)"
    )
    run = tmp_path / "runs" / "seg-20261202-1800"
    write_metrics(run, metrics)
    html = write_report(run, title="Ties").read_text()
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert "2 voxels in 1 samples tied between classes on their top probability" in text


def test_no_tie_no_word() -> None:
    truth = np.zeros((1, 4, 4), np.int64)
    pred = Predictions(_probs([])[None], truth, ["a"], [np.zeros((1, 4, 4))], [{}], regions=[None])
    metrics, _ = score_segmentation(_config(), pred, ["p"], {"n_resamples": 0})
    assert metrics["prediction_ties"] == 0 and ":" not in metrics["policy"]["prediction"]


class _Dataset:
    def __len__(self) -> int:
        return 1

    def raw_sample(self, i: int) -> Any:
        mask = np.zeros((4, 6), np.int64)
        return Sample(np.zeros((1, 4, 6), np.float32), mask=mask, meta={"spacing": (1.0, 1.0)})


def test_ties_on_the_source_pixels_are_those_of_the_folds_mean() -> None:
    """Two folds on a 4x4 model grid cropped from 4x6: fold 0 ties at (0, 0) and (0, 1), fold
    1 at (0, 1) only; their mean ties at (0, 1) alone, and the cut-away columns come back as
    background with probability 1 (no tie)."""
    prep = Pipeline.from_config([{"type": "crop_or_pad", "shape": [4, 4]}])
    folds = [_probs([(0, 0), (0, 1)])[None], _probs([(0, 1)])[None]]
    found = on_source(_Dataset(), [prep, prep], folds)
    assert found is not None
    mean, per_fold = found
    assert mean[0].labels.shape == (4, 6)
    assert [mean[0].ties, per_fold[0][0].ties, per_fold[1][0].ties] == [1, 2, 1]


def test_the_padding_is_not_scored_on_the_model_grid() -> None:
    """Mutation: the predicted labels in the padding (``crop_or_pad``'s added pixels) kept.
    Truth: 4 pixels of class 1 (rows 1-2, columns 1-2); the prediction has them and row 3,
    which is padding. Outside the padding it is exact: Dice 1.0; with row 3 scored it would
    be 2 * 4 / (8 + 4) = 2/3."""
    truth = np.zeros((1, 4, 4), np.int64)
    truth[0, 1:3, 1:3] = 1
    p1 = np.full((4, 4), 0.1)
    p1[1:3, 1:3] = 0.9
    p1[3, :] = 0.9  # the padding, called class 1
    region = np.ones((4, 4), bool)
    region[3] = False
    probs = np.stack([1 - p1, p1])[None].astype(np.float32)
    pred = Predictions(probs, truth, ["a"], [np.zeros((1, 4, 4))], [{}], regions=[region],
                       grid="model")  # fmt: skip
    metrics, labels = score_segmentation(_config(), pred, ["p"], {"n_resamples": 0})
    assert metrics["summary"]["dice_case_mean"] == pytest.approx(1.0)
    assert labels[0][3].tolist() == [0, 0, 0, 0]  # the padding is background in the overlays
