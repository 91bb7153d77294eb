"""Checkpoint averaging without training batches, and the window's size: by hand."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from workflows.train.average import WeightWindow, average_weights


def _bn(mean: float, weight: float) -> dict[str, torch.Tensor]:
    net = nn.BatchNorm1d(1)
    with torch.no_grad():
        net.weight.fill_(weight)
        net.running_mean.fill_(mean)
    return net.state_dict()


def test_without_batches_the_statistics_are_the_last_states() -> None:
    """Parameters averaged ((1 + 3) / 2 = 2); the running mean is the last state's (8), not
    the mean of the states' (5): averaged weights match no epoch's statistics."""
    model = nn.BatchNorm1d(1)
    assert average_weights(model, [_bn(2.0, 1.0), _bn(8.0, 3.0)], None) == 2
    assert model.weight.item() == pytest.approx(2.0)
    assert model.running_mean.item() == pytest.approx(8.0)


@pytest.mark.parametrize(("k", "anchor"), [(1, "last"), (0, "best"), (2, "first")])
def test_a_window_of_fewer_than_two_epochs_or_no_anchor_is_refused(k: int, anchor: str) -> None:
    with pytest.raises(ValueError, match=re.escape("k >= 2 and anchor best|last")):
        WeightWindow(k, anchor)
