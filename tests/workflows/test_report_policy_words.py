"""The report's "How the figures were computed" follows the run: a run without folds said its
prediction was "argmax ... (the mean of the fold models)", and 2-D images (each its own case)
had ``case_unit`` "volume (one series; ...)". Now the fold models' mean is said only when
several models were averaged, and a set of 2-D images says its case is an image."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import numpy as np

from workflows.report.results import evaluate_segmentation, write_metrics, write_report
from workflows.run.config import RunConfig
from workflows.run.evaluate import Predictions
from workflows.run.source_grid import score_segmentation


def _config() -> RunConfig:
    raw = {"task": "segmentation", "data": {"source": "x"}, "model": {"type": "mlp_segmenter"},
           "evaluate": {"bootstrap": 0}, "report": {"images": False}}  # fmt: skip
    return RunConfig.model_validate(raw)


def _pred(models: int) -> Predictions:
    """Two 4x4 images (one model's, or ``models`` models' mean), truth the bright square."""
    p1 = np.full((4, 4), 0.2)
    p1[1:3, 1:3] = 0.9
    probs = np.stack([np.stack([1 - p1, p1])] * 2).astype(np.float32)  # (N=2, K=2, 4, 4)
    truth = np.zeros((2, 4, 4), np.int64)
    truth[:, 1:3, 1:3] = 1
    pred = Predictions(probs, truth, ["a", "b"], [np.zeros((1, 4, 4))] * 2, [{}, {}],
                       regions=[None, None])  # fmt: skip
    pred.models = models
    return pred


def _report_text(tmp_path: Path, models: int) -> str:
    metrics, _ = score_segmentation(_config(), _pred(models), ["p1", "p2"], {"n_resamples": 0})
    run = tmp_path / f"seg-{models}"
    write_metrics(run, metrics)
    html = write_report(run, title="Words").read_text()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_one_model_on_2d_images_says_neither_folds_nor_volumes(tmp_path: Path) -> None:
    text = _report_text(tmp_path, 1)
    assert "argmax of the class probabilities per voxel, before postprocess;" in text
    assert "fold models" not in text
    assert ("case_unit image (each 2-D image is its own case); patients average their "
            "images") in text  # fmt: skip
    assert "volume (one series" not in text


def test_metrics_json_counts_2d_images_as_images_and_volumes_as_volumes() -> None:
    metrics, _ = score_segmentation(_config(), _pred(1), ["p1", "p2"], {"n_resamples": 0})
    assert (metrics["case_unit"], metrics["num_cases"]) == ("image", 2)
    t = np.zeros((3, 4, 4), np.int64)
    m = evaluate_segmentation([("v", t, t, None)], 2, ["background", "x"], n_resamples=0)
    assert (m["case_unit"], m["num_cases"]) == ("volume", 1)


def test_the_fold_models_mean_is_said_with_their_number(tmp_path: Path) -> None:
    text = _report_text(tmp_path, 3)
    assert "per voxel (the mean of the 3 fold models), before postprocess;" in text


def test_a_volume_is_still_a_volume() -> None:
    t = np.zeros((3, 4, 4), np.int64)  # one 3-D case (z, y, x)
    t[1, 1:3, 1:3] = 1
    m = evaluate_segmentation([("v", t, t, None)], 2, ["background", "x"], n_resamples=0)
    assert m["policy"]["case_unit"].startswith("volume (one series; a lone 2-D image")
