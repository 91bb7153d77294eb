"""The report's training table names the epoch ``best.pt`` holds.

It showed the last epoch and the lowest val_loss only, whatever the run monitored: with
``val_dice`` (the segmentation default) or a smoothed monitor (``train.monitor_ema``) the
scored model is often another epoch, and the only epoch the table named as best was not it.
The log here is written by hand: val_loss lowest at epoch 2, best.pt at epoch 3."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import numpy as np

from workflows.report.results import evaluate_segmentation, write_metrics, write_report


def _text(html: str) -> str:
    html = re.sub(r"<img[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _run(tmp_path: Path, best_epoch: int) -> str:
    run = tmp_path / "runs" / "seg-20261130-2300"
    square = np.zeros((8, 8), np.int64)
    square[2:6, 2:6] = 1
    metrics = evaluate_segmentation(
        [("a", square, square, (1.0, 1.0))], 2, ["background", "organ"], n_resamples=0
    )
    scored = {"fold": None, "checkpoint": "checkpoints/best.pt", "best_epoch": best_epoch}
    metrics["model"] = {"checkpoints": [scored]}
    write_metrics(run, metrics)
    log = [{"epoch": 1, "val_loss": 0.9, "val_dice": 0.2},
           {"epoch": 2, "val_loss": 0.4, "val_dice": 0.5},
           {"epoch": 3, "val_loss": 0.5, "val_dice": 0.7},
           {"epoch": 4, "val_loss": 0.6, "val_dice": 0.6}]  # fmt: skip
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    return _text(write_report(run).read_text())


def test_the_best_pt_epoch_is_named_beside_the_lowest_val_loss(tmp_path: Path) -> None:
    text = _run(tmp_path, best_epoch=3)
    assert (
        "epoch val_loss val_dice last epoch 4 0.600 0.600 best epoch (best.pt) 3 0.500 0.700 "
        "lowest val_loss 2 0.400 0.500"
    ) in text


def test_one_row_when_best_pt_is_the_lowest_val_loss(tmp_path: Path) -> None:
    text = _run(tmp_path, best_epoch=2)
    assert "last epoch 4 0.600 0.600 best epoch (best.pt) 2 0.400 0.500 " in text
    assert "lowest val_loss" not in text
