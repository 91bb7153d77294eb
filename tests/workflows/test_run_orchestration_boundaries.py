"""Class names of predict and of an external evaluation, where only smoke tests reached
(mutation sweep mut53: these mutants survived every test of ``tests/workflows`` and
``tests/runner`` that covers the modules).

Each test names the mutant of ``workflows/run`` it kills; the expected names are written
out by hand from the files the test writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from pipeline.errors import RadpipeError
from workflows.run.class_order import class_names
from workflows.run.external import _run_class_names
from workflows.run.ties import say_ties


def _config(task: str, names: list[str] | None) -> Any:
    return SimpleNamespace(task=task, data=SimpleNamespace(class_names=names))


def _run(tmp_path: Path, num_classes: int, metrics_names: list[str] | None = None) -> Path:
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / "data.json").write_text(json.dumps({"num_classes": num_classes}))
    if metrics_names is not None:
        (tmp_path / "metrics.json").write_text(json.dumps({"class_names": metrics_names}))
    return tmp_path


def test_predict_names_the_classes_from_metrics_json_when_nothing_else_does(
    tmp_path: Path,
) -> None:
    """Kills ``if metrics.exists()`` negated and ``run_dir / "metrics.json"`` ->
    ``run_dir * ...`` in ``class_order.class_names``: a run without ``classes.json`` or
    ``data.class_names`` names its 2 outputs as its ``metrics.json`` does ('cat', 'dog'); a
    model of 3 outputs gets '0', '1', '2' (the 2 names do not fit it)."""
    run = _run(tmp_path, 2, ["cat", "dog"])
    assert class_names(_config("classification", None), run, 2) == ["cat", "dog"]
    assert class_names(_config("classification", None), run, 3) == ["0", "1", "2"]
    (run / "classes.json").write_text(json.dumps({"class_names": ["dog", "cat"]}))
    assert class_names(_config("classification", None), run, 2) == ["dog", "cat"]


def test_an_external_label_past_the_models_classes_is_refused(tmp_path: Path) -> None:
    """Kills ``if config.task == "classification"`` -> ``!=`` before the label check of
    ``external._run_class_names``: labels 0 and 2 for a model of 2 classes (a, b) are refused
    naming class 2; labels 0 and 1 pass with the run's names."""
    run = _run(tmp_path, 2)
    config = _config("classification", ["a", "b"])
    study = SimpleNamespace(split=[{"label": "0"}, {"label": "2"}])
    with pytest.raises(
        RadpipeError, match=r"use class 2; the run's model knows 2 classes \(a, b\)"
    ):
        _run_class_names(config, run, study)  # type: ignore[arg-type]
    study.split = [{"label": "0"}, {"label": "1"}]
    assert _run_class_names(config, run, study) == ["a", "b"]  # type: ignore[arg-type]


def test_external_names_fill_the_models_outputs_and_segmentation_has_no_labels(
    tmp_path: Path,
) -> None:
    """A classification model of 3 outputs with 2 names gets '2' for the third (a, b, 2);
    a segmentation run's split rows have no label column and are not read for one (the
    ``!=`` mutant above reads them: KeyError)."""
    run = _run(tmp_path, 3)
    study = SimpleNamespace(split=[{"label": "1"}])
    names = _run_class_names(_config("classification", ["a", "b"]), run, study)  # type: ignore[arg-type]
    assert names == ["a", "b", "2"]
    seg = SimpleNamespace(split=[{"series_key": "s"}])
    got = _run_class_names(_config("segmentation", ["bg", "x", "y"]), run, seg)  # type: ignore[arg-type]
    assert got == ["bg", "x", "y"]


def test_external_names_are_the_runs_metrics_json_not_the_external_labels(
    tmp_path: Path,
) -> None:
    """Kills ``if not names and config.task == "classification"`` -> ``or``: a run without
    ``data.class_names`` keeps its ``metrics.json`` names (cat, dog), though the external
    labels CSV names only 'dog' (the mutant took the external table's ['dog'], padded to
    'dog', '1': the model's class 0 called dog)."""
    run = _run(tmp_path, 2, ["cat", "dog"])
    study = SimpleNamespace(
        split=[{"label": "1"}], label_table=SimpleNamespace(class_names=["dog"])
    )
    got = _run_class_names(_config("classification", None), run, study)  # type: ignore[arg-type]
    assert got == ["cat", "dog"]


def test_predict_averages_the_fold_models_probabilities(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Kills ``a + b`` -> ``a - b`` in the fold sum of ``predict_folds.fold_probabilities``
    (radpipe predict of a 2-fold run): fold 0 gives rows (.8, .2) and (.4, .6), fold 1
    (.6, .4) and (.2, .8); the ensemble is their mean by hand, (.7, .3) and (.3, .7) (the
    mutant gave (.1, -.1) for both rows)."""
    import workflows.run.evaluate as evaluate
    import workflows.run.predict_folds as pf

    by_fold = {
        "a.pt": np.array([[0.8, 0.2], [0.4, 0.6]]),
        "b.pt": np.array([[0.6, 0.4], [0.2, 0.8]]),
    }
    monkeypatch.setattr(pf.Pipeline, "load", staticmethod(lambda path: None))
    monkeypatch.setattr(pf, "_model_info", lambda folder, folders: {})
    monkeypatch.setattr(pf, "split_index_values", lambda run_dir, column: set())
    monkeypatch.setattr(pf, "_usable", lambda dataset, *a, **k: ([0, 1], list(dataset), []))
    monkeypatch.setattr(
        evaluate, "predict_with_checkpoint", lambda config, ckpt, items: by_fold[ckpt.name]
    )
    config = SimpleNamespace(task="classification", split=SimpleNamespace(folds=2))
    got = pf.fold_probabilities(
        tmp_path, config, [Path("a.pt"), Path("b.pt")], lambda prep: ["x", "y"], tmp_path,
        False, None,
    )  # fmt: skip
    assert got.keep == [0, 1]
    np.testing.assert_allclose(np.stack(got.probs), [[0.7, 0.3], [0.3, 0.7]])


def test_no_tie_is_said_when_nothing_tied_and_a_fold_tie_is_said_with_the_ensembles_0() -> None:
    """Kills ``int(metrics.get("prediction_ties") or 0)`` -> ``or 1`` in ``ties.say_ties``:
    an evaluation without a tie says nothing, and an ensemble of no tie whose fold 1 tied
    one case of 4 says '0 of 4' for the ensemble (the mutant: nothing tied -> '1 of 4')."""
    assert say_ties("classification", {"prediction_ties": 0}, [], 4) is None
    assert say_ties("classification", {}, [{}, {}], 4) is None
    said = say_ties("classification", {"prediction_ties": 0}, [{}, {"prediction_ties": 1}], 4)
    assert said is not None
    assert said.startswith("0 of 4 test cases tie on their top probability")
    assert "fold 0: 0 of 4, fold 1: 1 of 4" in said


def test_segmentation_ties_name_the_runs_first_class() -> None:
    """Kills ``metrics.get("class_names") or ["background"]`` -> ``and``: 3 tied voxels in
    2 of 5 samples of a run whose class 0 is 'bg' are said to go to bg, not 'background'."""
    metrics = {"prediction_ties": 3, "prediction_ties_samples": 2, "class_names": ["bg", "liver"]}
    assert say_ties("segmentation", metrics, [], 5) == (
        "3 voxels in 2 of 5 test samples tie on their top probability: each is called the "
        "lower class (bg first)"
    )
    unnamed = {"prediction_ties": 1, "prediction_ties_samples": 1}
    assert str(say_ties("segmentation", unnamed, [], 1)).endswith("(background first)")


def test_overlays_find_volume_rows_by_their_series_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Kills ``str(meta.get("series_key") or sample_id)`` -> ``and`` in
    ``evaluate._overlays``: per-case rows keyed by series (s0 Dice .9, s1 Dice .2) are drawn
    with each series' first sample (v0a, v1a), best then worst (the mutant indexed sample
    ids only, found neither row and drew nothing)."""
    import workflows.report.plots as plots
    from workflows.run.evaluate import Predictions, _overlays

    calls: list[list[Any]] = []
    monkeypatch.setattr(plots, "plot_overlays", lambda cases, *a, **k: calls.append(cases))
    ids, keys = ["v0a", "v0b", "v1a"], ["s0", "s0", "s1"]
    blank = np.zeros((2, 2), np.int64)
    pred = Predictions(
        probs=np.zeros((3, 2, 2, 2)), truth=np.stack([blank] * 3), ids=ids,
        images=[blank] * 3, meta=[{"series_key": k} for k in keys],
    )  # fmt: skip
    rows = [{"id": "s1", "dice_macro": 0.2}, {"id": "s0", "dice_macro": 0.9}]
    _overlays({"per_case": rows}, pred, [blank] * 3, ["bg", "x"], 2, tmp_path)
    assert [[(c[0], c[-1]) for c in cases] for cases in calls] == [[("v0a", 0.9), ("v1a", 0.2)]]
