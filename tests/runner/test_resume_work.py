"""What ``radpipe run --resume`` trains again: nothing a run had finished. Each test names the
mutations it kills; the expected epochs follow from where the first run was stopped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import workflows.run.runner as runner
import workflows.train.loop as loop
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.rundir import load_run_config


def _stop_at(fold: int | None, epoch: int) -> Any:
    """An ``epoch_reporter`` that stops the run (Ctrl-C) at the end of ``epoch`` of ``fold``,
    once that epoch's checkpoints are written."""
    real = runner.epoch_reporter

    def reporter(config: Any, at: int | None) -> Any:
        report = real(config, at)

        def hook(done: int, row: dict[str, Any]) -> None:
            report(done, row)
            if (at, done) == (fold, epoch):
                raise KeyboardInterrupt

        return hook

    return reporter


def _trained_on_resume(run: Path) -> list[tuple[str, int]]:
    """Resume ``run``; the (folder, epoch) of every epoch it trained."""
    trained: list[tuple[str, int]] = []
    real = loop._train_epoch

    def counted(state: Any, ds: Any, epoch: int) -> dict[str, Any]:
        trained.append((state.run_dir.name, epoch))
        return real(state, ds, epoch)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "_train_epoch", counted)
        runner.run_study(load_run_config(run), run_dir=run, progress=False)
    return trained


def test_a_resume_trains_only_the_epochs_the_stopped_run_had_not(
    cr16: Path, shared_output: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Mutations: a resume that trains a finished fold again (its ``train_done.json``
    ignored); one that restarts the stopped fold from epoch 1 (its ``last.pt`` ignored). The
    run is stopped after epoch 1 of fold 1 (of 2 epochs, 2 folds): a resume trains fold 1's
    epoch 2 and nothing else."""
    raw = base_config(cr16, shared_output)
    raw["split"] = {"test": 0.25, "folds": 2}
    raw["train"] |= {"epochs": 2, "checkpoint_interval_s": 0}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "epoch_reporter", _stop_at(1, 1))
        with pytest.raises(runner.RunInterrupted) as stopped:
            runner.run_study(validate_config(raw), progress=False)
    run = stopped.value.run_dir
    assert (run / "folds" / "fold-0" / "train_done.json").is_file()
    assert not (run / "folds" / "fold-1" / "train_done.json").exists()
    caplog.clear()
    with caplog.at_level("INFO", logger="radpipe"):
        assert _trained_on_resume(run) == [("fold-1", 2)]
    said = [r.getMessage() for r in caplog.records if "train_done" in r.getMessage()]
    # the finished fold is said as not trained again (it was re-scored, unsaid); fold 1 is not
    assert said == ["fold 0: training had finished (train_done.json): not trained again, its "
                    "model is evaluated"]  # fmt: skip
    log = (run / "folds" / "fold-1" / "log.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in log] == [1, 2]


def test_a_fold_that_stopped_early_is_not_trained_on(cr16: Path, shared_output: Path) -> None:
    """Mutations: a resume that trains a finished fold again (``train_done.json`` ignored:
    its ``last.pt`` holds the early-stopping state, and the loop goes on to the next epoch);
    ``train_done.json`` recording the last epoch as the best, or no early stop. With a
    learning rate of 1e-9 the validation accuracy of epoch 2 equals epoch 1's (no gain), so
    patience 1 stops the 3-epoch run after epoch 2 with epoch 1 the best."""
    raw = base_config(cr16, shared_output)
    raw["train"] |= {"epochs": 3, "early_stopping": 1, "lr": 1e-9}
    outcome = runner.run_study(validate_config(raw), progress=False)
    assert outcome is not None
    run = outcome.run_dir
    done = json.loads((run / "train_done.json").read_text())
    assert (done["epochs"], done["best_epoch"], done["stopped_early"]) == (2, 1, True)
    (run / "metrics.json").unlink()  # stopped while evaluating
    assert _trained_on_resume(run) == []
    assert (run / "metrics.json").is_file()


def test_a_resume_keeps_the_fitted_preprocessing(cr16: Path, shared_output: Path) -> None:
    """Mutation: a resume that fits the preprocessing again instead of loading ``stages/``
    (the training data or their order may have changed since: the resumed model would see
    other inputs than those its first epochs learnt from). Stopped after epoch 1 of 2, the
    resume fits nothing and its stage state is the first run's, byte for byte."""
    from pipeline.stage import Pipeline

    raw = base_config(cr16, shared_output)
    raw["train"] |= {"epochs": 2, "checkpoint_interval_s": 0}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "epoch_reporter", _stop_at(None, 1))
        with pytest.raises(runner.RunInterrupted) as stopped:
            runner.run_study(validate_config(raw), progress=False)
    run = stopped.value.run_dir
    saved = {p.name: p.read_bytes() for p in (run / "stages").iterdir()}
    fitted: list[int] = []
    real = Pipeline.fit

    def fit(self: Pipeline, samples: Any) -> Pipeline:
        fitted.append(1)
        return real(self, samples)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Pipeline, "fit", fit)
        assert _trained_on_resume(run) == [(run.name, 2)]
    assert fitted == []
    assert {p.name: p.read_bytes() for p in (run / "stages").iterdir()} == saved
