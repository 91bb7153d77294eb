"""The ``evaluate:`` settings reach the scoring of a run. A mutant that scored with a default
instead of the user's setting (background left out, empty masks NaN, failures excluded, the
run's seed or confidence level ignored) changes ``metrics.json`` without a word; each test
records what the scoring functions were given."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import workflows.report.results as results
from workflows.run.config import RunConfig
from workflows.run.evaluate import Predictions, _score

SETTINGS = {"bootstrap": 50, "confidence": 0.9}


def _config(task: str, model: str, evaluate: dict[str, Any]) -> RunConfig:
    raw = {"task": task, "seed": 7, "data": {"source": "x"}, "model": {"type": model},
           "evaluate": SETTINGS | evaluate, "report": {"images": False}}  # fmt: skip
    return RunConfig.model_validate(raw)


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def record(*args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return {}

    monkeypatch.setattr(results, name, record)
    return seen


def test_segmentation_is_scored_with_the_evaluate_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _spy(monkeypatch, "evaluate_segmentation")
    evaluate = {"include_background": True, "empty": "one", "surface_failures": "diagonal",
                "nsd_tolerance_mm": 1.5}  # fmt: skip
    config = _config("segmentation", "mlp_segmenter", evaluate)
    probs = np.zeros((1, 2, 4, 4), np.float32)
    pred = Predictions(probs, np.zeros((1, 4, 4), np.int64), ["a"], [probs[0]], [{}], set(), [None])
    study = SimpleNamespace(split=[], class_names=[])
    _score(config, study, pred, None, tmp_path)  # type: ignore[arg-type]
    assert {k: seen[k] for k in ("include_background", "empty", "failures", "nsd_tolerance")} == {
        "include_background": True, "empty": "one", "failures": "diagonal",
        "nsd_tolerance": 1.5}  # fmt: skip
    assert (seen["n_resamples"], seen["seed"], seen["level"]) == (50, 7, 0.9)


def test_classification_is_scored_with_the_evaluate_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _spy(monkeypatch, "evaluate_classification")
    evaluate = {"operating_point": "sensitivity", "target_sensitivity": 0.8,
                "positive_class": "benign"}  # fmt: skip
    config = _config("classification", "mlp_classifier", evaluate)
    probs = np.full((1, 2), 0.5, np.float32)
    pred = Predictions(probs, np.zeros(1, np.int64), ["a"], [np.zeros((1, 2, 2))], [{}])
    study = SimpleNamespace(split=[], class_names=["benign", "malignant"])
    _score(config, study, pred, None, None)  # type: ignore[arg-type]
    assert (seen["operating_point"], seen["target_sensitivity"], seen["positive"]) == (
        "sensitivity", 0.8, 0)  # fmt: skip
    assert (seen["n_resamples"], seen["seed"], seen["level"]) == (0, 7, 0.9)  # no plots: none
