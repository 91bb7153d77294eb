"""Epoch counts the run cannot reach are said on the terminal.

``train.average_epochs: 10`` on a run of 2 epochs averaged 2 (or, anchored on an early best
epoch, 1) and said so only in ``average.json``; ``train.min_epochs`` above ``train.epochs``
meant early stopping could never fire, unsaid. Both are now warned (as ``warmup_epochs`` at
or above ``train.epochs`` is), naming how many epochs, which, and why. Texts by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torch import nn

from tests.runner.conftest import radpipe_in as _cli
from tests.workflows.test_class_name_shared import _study
from workflows.train.average import WeightWindow, short_window


def test_a_short_average_and_an_unreachable_min_epochs_are_said(tmp_path: Path) -> None:
    _study(tmp_path, slipped=False)
    settings = ["train.epochs=2", "train.average_epochs=10", "train.average_anchor=last",
                "train.min_epochs=5", "train.early_stopping=3"]  # fmt: skip
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet", *(a for s in settings for a in ("--set", s)))
    assert proc.returncode == 0, proc.stderr
    note = ("train.average_epochs 10: only 2 epochs were averaged (epochs 1, 2), as the run had "
            "only 2 epochs (train.epochs 2); best.pt holds their mean")  # fmt: skip
    assert f"radpipe: {note}\n" in proc.stderr
    assert (
        "radpipe: train.min_epochs 5 is above train.epochs 2: the run ends at epoch 2 first, so "
        "early stopping never fires. Set min_epochs to at most epochs (0: no minimum).\n"
    ) in proc.stderr
    (average,) = (tmp_path / "runs").glob("*/average.json")
    record = json.loads(average.read_text())
    assert (record["epochs"], record["requested"], record["note"]) == ([1, 2], 10, note)


@pytest.mark.parametrize(
    ("k", "anchor", "improved", "epochs", "note"),
    [
        (3, "best", [True, False, False, False], 4,
         "train.average_epochs 3: only 1 epoch was averaged (epoch 1), as the best epoch of "
         "val_accuracy, epoch 1, has only 1 epoch up to it (train.average_anchor best); best.pt "
         "holds that epoch's weights"),
        (5, "last", [True, True, False], 10,
         "train.average_epochs 5: only 3 epochs were averaged (epochs 1, 2, 3), as the run had "
         "only 3 epochs (early stopping); best.pt holds their mean"),
        (2, "best", [True, True, False], 3, None),
    ],
)  # fmt: skip
def test_why_fewer_epochs_were_averaged(
    k: int, anchor: str, improved: list[bool], epochs: int, note: str | None
) -> None:
    window = WeightWindow(k, anchor)
    for epoch, gain in enumerate(improved, start=1):
        window.record(epoch, nn.Linear(1, 1), gain)
    said = short_window(window, epochs, "val_accuracy", say=False)
    assert said == ({} if note is None else {"requested": k, "note": note})
