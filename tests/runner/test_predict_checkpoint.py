"""Which checkpoint ``radpipe predict`` loads: the run's ``best.pt`` (``last.pt`` only without
one). A copy of a finished run gets a ``best.pt`` whose weights are all zero, so that its
logits are 0 and every class has probability 1/2 (worked out by hand); ``last.pt`` keeps the
trained weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from tests.runner.conftest import read_rows
from workflows.cli import main


def test_predict_uses_the_best_checkpoint(cr_run: Path, cr16: Path, tmp_path: Path) -> None:
    """Mutation: predict loading ``last.pt`` (the last epoch) instead of ``best.pt``."""
    run = cr_run.parent / f"{cr_run.name}-zeroed"  # beside it: its relative paths still hold
    shutil.copytree(cr_run, run)
    best = run / "checkpoints" / "best.pt"
    saved = torch.load(best, weights_only=True)
    saved["model"] = {k: torch.zeros_like(v) for k, v in saved["model"].items()}
    torch.save(saved, best)
    out = tmp_path / "pred"
    assert main(["predict", str(run), str(cr16 / "dicom"), "--out", str(out), "--quiet"]) == 0
    rows = read_rows(out / "predictions.csv")
    probs = {v for r in rows for k, v in r.items() if k.startswith("prob_")}
    assert len(rows) == 16 and probs == {"0.5"}
