"""The checkpoint a run (or a fold) is scored and predicted with: best.pt, not last.pt.

evaluate, predict and evaluate-external all take it from workflows.run.rundir.fold_checkpoint;
scoring last.pt instead (the epoch training stopped at, early stopping's patience past the
best) changed every figure of a run whose best epoch was not its last, silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import RadpipeError
from workflows.run.run_models import fold_checkpoint
from workflows.run.rundir import fold_dir


def _trained(folder: Path, *names: str) -> Path:
    (folder / "checkpoints").mkdir(parents=True)
    for name in names:
        (folder / "checkpoints" / name).write_bytes(b"")
    (folder / "train_done.json").write_text("{}")
    return folder


def test_best_is_scored_when_there_is_one(tmp_path: Path) -> None:
    folder = _trained(fold_dir(tmp_path, 2), "last.pt", "best.pt")
    assert fold_checkpoint(folder) == folder / "checkpoints" / "best.pt"


def test_last_is_scored_without_a_best(tmp_path: Path) -> None:
    """No best.pt: a monitor that never was a number (val_dice NaN every epoch)."""
    folder = _trained(tmp_path, "last.pt")
    assert fold_checkpoint(folder) == folder / "checkpoints" / "last.pt"


def test_unfinished_training_is_refused(tmp_path: Path) -> None:
    folder = _trained(fold_dir(tmp_path, 1), "last.pt", "best.pt")
    (folder / "train_done.json").unlink()
    with pytest.raises(RadpipeError, match="fold 1: training has not finished"):
        fold_checkpoint(folder)
