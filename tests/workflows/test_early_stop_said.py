"""Early stopping says that it ended training, and why.

The epoch lines of ``radpipe run`` stopped short (``epoch 12/30``) and the evaluation followed
without a word: that early stopping ended the run, on which metric and from which best epoch,
was only in ``train_done.json``. The expected line is built here from the run's own
``log.jsonl`` values: the monitor is ``train_loss`` with ``mode: max``, so the first epoch is the
best as soon as the loss falls, and ``early_stopping: 2`` stops the run after epoch 3.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from models import build_model
from workflows.train.loop import TrainConfig, train


def _items(n: int, seed: int) -> list[dict[str, object]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=g)
    y = torch.arange(n) % 2
    x[y == 1] += 2.0  # class 1 far brighter: the loss falls from the first epoch on
    return [{"image": x[i], "label": y[i], "id": f"s{i}"} for i in range(n)]


def test_early_stopping_says_when_and_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    torch.manual_seed(0)
    model = build_model("mlp_classifier", in_features=16, num_classes=2, hidden=[8])
    config = TrainConfig(epochs=5, batch_size=8, lr=0.05, early_stopping=2,
                         monitor="train_loss", mode="max", seed=0, progress=False)  # fmt: skip
    with caplog.at_level(logging.INFO, logger="radpipe"):
        result = train(model, _items(32, 0), None, config, tmp_path)
    losses = [row["train_loss"] for row in result.history]
    assert len(losses) == 3 and max(losses[1:]) < losses[0]  # the premise: epoch 1 is the best
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("early")]
    assert said == [
        "early stopping: training ended after epoch 3 of 5, as train_loss had not improved "
        f"for 2 epochs (train.early_stopping 2); the best was epoch 1 ({losses[0]:.4f})"
    ]


def test_a_run_that_ends_at_its_last_epoch_says_nothing_of_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    torch.manual_seed(0)
    model = build_model("mlp_classifier", in_features=16, num_classes=2, hidden=[8])
    config = TrainConfig(epochs=2, batch_size=8, lr=0.05, early_stopping=5,
                         monitor="train_loss", seed=0, progress=False)  # fmt: skip
    with caplog.at_level(logging.INFO, logger="radpipe"):
        train(model, _items(32, 0), None, config, tmp_path)
    assert not [r for r in caplog.records if r.getMessage().startswith("early")]
