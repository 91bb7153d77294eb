"""``train.monitor`` is checked when the config is read against
:func:`workflows.train.config.epoch_metrics`; the numbers an epoch really logs come from
:func:`workflows.train.epoch.evaluate`. The two lists must name the same keys, or a valid
monitor would be refused (or a misspelt one let through to fail at the end of epoch 1)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from workflows.train.config import epoch_metrics
from workflows.train.epoch import evaluate


@pytest.mark.parametrize("task", ["classification", "segmentation"])
def test_validation_logs_the_names_the_config_accepts(task: str) -> None:
    torch.manual_seed(0)
    if task == "classification":
        model: nn.Module = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
        batch = {"image": torch.rand(3, 1, 4, 4), "label": torch.tensor([0, 1, 1])}
    else:
        model = nn.Conv2d(1, 2, 1)
        batch = {"image": torch.rand(3, 1, 4, 4), "mask": torch.randint(0, 2, (3, 4, 4))}
    logged = evaluate(model, [batch], nn.CrossEntropyLoss(), task, torch.device("cpu"))
    assert {"train_loss", *logged} == set(epoch_metrics(task))
