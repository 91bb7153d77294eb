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


def test_a_frozen_batch_norm_keeps_the_last_states_statistics() -> None:
    """Batch norm frozen (``train.freeze``: its affine parameters do not train) is left out
    of the recomputation (mutation sweep mut88: restoring the frozen layer's state after
    ``update_bn`` dropped survived tests/workflows/test_average*.py). States: weight 1 then 3,
    running mean 1 then 3, variance 2 then 9. The averaged weight is 2; the batch 1, 2, 3
    gives outputs 2, 4, 6, whose mean 4 and unbiased variance 4 a recomputation would store;
    the frozen layer keeps the last state's 3 and 9."""

    def state(weight: float, mean: float, var: float) -> dict[str, torch.Tensor]:
        net = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1))
        with torch.no_grad():
            net[0].weight.fill_(weight)
            net[0].bias.fill_(0.0)
            net[1].running_mean.fill_(mean)
            net[1].running_var.fill_(var)
        return net.state_dict()

    model = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1))
    model[1].requires_grad_(False)
    x = torch.tensor([[1.0], [2.0], [3.0]])
    assert average_weights(model, [state(1.0, 1.0, 2.0), state(3.0, 3.0, 9.0)], [x]) == 2
    assert model[0].weight.item() == pytest.approx(2.0)
    assert model[1].running_mean.item() == pytest.approx(3.0)
    assert model[1].running_var.item() == pytest.approx(9.0)


def test_only_a_batch_norm_frozen_whole_counts_as_frozen() -> None:
    """Mutation sweep mut119: 'all parameters frozen' made 'some frozen' passed every test.
    A batch norm whose bias still trains keeps training its statistics (train mode) and has
    them recomputed after averaging; only one with weight and bias frozen is left alone."""
    from workflows.train.average import frozen_norms

    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.BatchNorm1d(2))
    model[1].weight.requires_grad_(False)  # bias trainable: not frozen
    assert frozen_norms(model) == []
    model[2].weight.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    assert frozen_norms(model) == ["2"]


@pytest.mark.parametrize("k", [2, 3])
def test_a_full_window_has_no_note(k: int) -> None:
    """Mutation sweep mut119: '>= k' made '> k' passed every test; a window of exactly k
    epochs then said 'only k epochs were averaged'. k epochs recorded: no note; k - 1: one."""
    from workflows.train.average import short_window

    window = WeightWindow(k, "last")
    for epoch in range(1, k):
        window.record(epoch, nn.Linear(1, 1), improved=True)
    assert short_window(window, 10, "val_loss", say=False)["requested"] == k
    window.record(k, nn.Linear(1, 1), improved=True)
    assert short_window(window, 10, "val_loss", say=False) == {}


def test_training_leaves_a_frozen_batch_norms_statistics_alone() -> None:
    """Mutation sweep mut119: not putting frozen batch norms in eval mode while training
    passed every test. A batch of features 1, 3 (mean 2, unbiased variance 2) moves a
    training batch norm's running mean from 0 to 0.1 x 2 = 0.2 and its variance from 1 to
    0.9 + 0.1 x 2 = 1.1 (momentum 0.1); the frozen one keeps 0 and 1 and counts no batch."""
    from workflows.train.config import TrainConfig
    from workflows.train.epoch import train_one_epoch
    from workflows.train.optim import make_optimizer

    model = nn.Sequential(nn.BatchNorm1d(1), nn.BatchNorm1d(1), nn.Linear(1, 2))
    model[1].weight.requires_grad_(False)
    model[1].bias.requires_grad_(False)
    config = TrainConfig(optimizer="sgd", lr=0.1)
    batch = [{"image": torch.tensor([[1.0], [3.0]]), "label": torch.tensor([0, 1])}]
    train_one_epoch(model, batch, nn.CrossEntropyLoss(), make_optimizer(model, config), config,
                    torch.device("cpu"), None, None)  # fmt: skip
    assert (model[0].running_mean.item(), model[0].running_var.item()) == pytest.approx((0.2, 1.1))
    assert (model[1].running_mean.item(), model[1].running_var.item()) == (0.0, 1.0)
    assert model[1].num_batches_tracked.item() == 0
