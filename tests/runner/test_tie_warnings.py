"""Argmax ties of a k-fold run are said once, with the count of each fold: each fold's scoring
and the ensemble's warned on their own (k + 1 lines for the same test cases). The fold models'
probabilities are set here, so the counts are known by hand."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import workflows.run.evaluate as ev
from workflows.run.run_models import run_checkpoints
from workflows.run.rundir import load_run_config
from workflows.run.study import prepare_study


def _fold_probs(checkpoint: Path, n: int) -> np.ndarray:
    """Fold 0: rows 0 and 1 tie (0.5 / 0.5); fold 1: row 0 ties; the rest 0.8 / 0.2."""
    probs = np.tile([0.8, 0.2], (n, 1))
    tied = 2 if "fold-0" in checkpoint.as_posix() else 1
    probs[:tied] = 0.5
    return probs


def test_kfold_ties_are_said_once_with_each_folds_count(
    kfold_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def fake(config: Any, checkpoint: Path, dataset: Any) -> np.ndarray:
        return _fold_probs(checkpoint, len(dataset))

    monkeypatch.setattr(ev, "predict_with_checkpoint", fake)
    config = load_run_config(kfold_run)
    config = config.model_copy(
        update={"report": config.report.model_copy(update={"images": False})}
    )
    study = prepare_study(config, kfold_run, progress=False)
    checkpoints = run_checkpoints(kfold_run, 2)
    assert len(checkpoints) == 2
    n = sum(1 for r in study.split if r["split"] == "test")  # 4 of 16 (split.test 0.25)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        metrics = ev.evaluate_run(config, study, kfold_run, checkpoints, out=tmp_path)
    said = [r.getMessage() for r in caplog.records if "tie on their top" in r.getMessage()]
    # the ensemble: row 0 is (0.5 + 0.5) / 2 = 0.5 (a tie), row 1 (0.5 + 0.8) / 2 = 0.65
    assert said == [
        f"1 of {n} test cases tie on their top probability (0.5 / 0.5) (the ensemble of 2 fold "
        f"models; fold 0: 2 of {n}, fold 1: 1 of {n}): each is called the first of the tied "
        "classes"
    ]
    assert metrics is not None
    assert (metrics["prediction_ties"], metrics["prediction_ties_per_fold"]) == (1, [2, 1])


def test_a_tie_among_three_classes_is_not_said_as_half_and_half(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """0.4 / 0.4 / 0.2 ties (two classes share the top) and is no 0.5 / 0.5: evaluation and
    predict say a tie of 3 classes; 2 classes keep their words."""
    from workflows.run.predict import warn_ties
    from workflows.run.ties import say_ties

    three = "2 or more of the 3 classes at the top, e.g. 0.4 / 0.4 / 0.2"
    metrics = {"prediction_ties": 1, "class_names": ["a", "b", "c"]}
    assert say_ties("classification", metrics, [], 4) == (
        f"1 of 4 test cases tie on their top probability ({three}): each is called the first "
        "of the tied classes"
    )
    probs = [np.array([0.4, 0.4, 0.2]), np.array([0.1, 0.2, 0.7])]
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert warn_ties("classification", probs, ["a", "b", "c"]) == 1
        assert warn_ties("classification", [np.array([0.5, 0.5])], ["a", "b"]) == 1
    said = [r.getMessage() for r in caplog.records if "rows tie" in r.getMessage()]
    assert said == [
        f"1 of 2 rows tie on their top probability ({three}): 'pred' is the first of the tied "
        "classes, as radpipe evaluate calls it",
        "1 of 1 rows tie on their top probability (0.5 / 0.5): 'pred' is the first of the tied "
        "classes, as radpipe evaluate calls it",
    ]
