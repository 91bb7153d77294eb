"""The optimizers ``train.optimizer`` builds, checked by updates worked out by hand on one
parameter ``w = 1`` whose loss is ``slope * w`` (its gradient is ``slope``). Formulas: SGD with
momentum and Nesterov's look-ahead as PyTorch states them (Sutskever et al., ICML 2013); L2 as
``weight_decay * w`` added to the gradient; AdamW's decoupled decay (Loshchilov and Hutter,
ICLR 2019); Adam's first step is ``lr`` times the sign of the gradient (Kingma and Ba, 2015)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from pipeline.errors import ConfigError
from workflows.train.config import TrainConfig
from workflows.train.optim import make_optimizer


def _steps(slope: float, n: int, **settings: Any) -> list[float]:
    """``w`` after each of ``n`` steps of the optimizer ``settings`` make, from ``w = 1``."""
    w = torch.nn.Parameter(torch.ones(1))
    model = torch.nn.Module()
    model.w = w
    optimizer = make_optimizer(model, TrainConfig(**settings))
    seen = []
    for _ in range(n):
        optimizer.zero_grad()
        (slope * w).sum().backward()
        optimizer.step()
        seen.append(float(w.detach()))
    return seen


def test_sgd_momentum_with_and_without_nesterov() -> None:
    sgd = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}
    # buffer b1 = 1, b2 = 0.9 + 1 = 1.9; plain: w -= 0.1 b -> 0.9, 0.71
    assert _steps(1.0, 2, **sgd) == pytest.approx([0.9, 0.71])
    # Nesterov: w -= 0.1 (g + 0.9 b): 1 - 0.19 = 0.81, then 0.81 - 0.1 (1 + 1.71) = 0.539
    assert _steps(1.0, 2, **sgd, nesterov=True) == pytest.approx([0.81, 0.539])


def test_weight_decay_is_l2_for_sgd_and_adam_and_decoupled_for_adamw() -> None:
    # SGD without momentum: g = 1 + 0.5 x 1 = 1.5, w = 1 - 0.1 x 1.5 = 0.85
    assert _steps(1.0, 1, optimizer="sgd", lr=0.1, momentum=0.0, weight_decay=0.5) == (
        pytest.approx([0.85])
    )
    # slope -0.1: Adam steps against the sign of g. Without decay g = -0.1: w = 1.1; with L2
    # 0.5, g = -0.1 + 0.5 = 0.4: w = 0.9; AdamW: w = 1 x (1 - 0.1 x 0.5) + 0.1 = 1.05
    assert _steps(-0.1, 1, optimizer="adam", lr=0.1) == pytest.approx([1.1])
    assert _steps(-0.1, 1, optimizer="adam", lr=0.1, weight_decay=0.5) == pytest.approx([0.9])
    assert _steps(-0.1, 1, optimizer="adamw", lr=0.1, weight_decay=0.5) == pytest.approx([1.05])


def test_frozen_parameters_are_not_given_to_the_optimizer() -> None:
    model = torch.nn.Linear(2, 2)
    model.bias.requires_grad_(False)
    optimizer = make_optimizer(model, TrainConfig())
    assert [p for g in optimizer.param_groups for p in g["params"]] == [model.weight]
    model.weight.requires_grad_(False)
    with pytest.raises(ConfigError, match="no trainable parameters"):
        make_optimizer(model, TrainConfig())


def test_l1_adds_the_sum_of_absolute_weights_to_the_loss() -> None:
    """``train.l1``: ``l1 x sum |w|`` over weight matrices (not biases) joins the loss, so its
    gradient moves each weight by ``lr x l1 x sign(w)`` when the data loss is flat."""
    from workflows.train.epoch import train_one_epoch

    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0], [3.0, 0.5]]))
        model.bias.copy_(torch.tensor([5.0, -5.0]))

    class Flat(torch.nn.Module):  # a data loss of 0 whose gradient is 0
        def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return logits.sum() * 0.0

    config = TrainConfig(optimizer="sgd", lr=0.1, momentum=0.0, l1=0.1)
    optimizer = make_optimizer(model, config)
    batch = [{"image": torch.zeros(1, 2), "label": torch.zeros(1, dtype=torch.long)}]
    row = train_one_epoch(model, batch, Flat(), optimizer, config, torch.device("cpu"), None, None)
    assert row["train_loss"] == pytest.approx(0.1 * 6.5)  # |1| + |-2| + |3| + |0.5|
    expected = torch.tensor([[0.99, -1.99], [2.99, 0.49]])  # w - 0.1 x 0.1 x sign(w)
    torch.testing.assert_close(model.weight.detach(), expected)
    torch.testing.assert_close(model.bias.detach(), torch.tensor([5.0, -5.0]))


def test_label_smoothing_reaches_the_classification_loss() -> None:
    from workflows.train.optim import make_loss

    logits = torch.tensor([[2.0, -1.0, 0.5]])
    target = torch.tensor([0])
    log_p = torch.log_softmax(logits, dim=1)[0]
    # smoothed target (1 - 0.3) one-hot + 0.3 / 3 everywhere (Szegedy et al. 2016)
    expected = -(0.7 * log_p[0] + 0.1 * log_p.sum())
    loss = make_loss("classification", TrainConfig(label_smoothing=0.3))(logits, target)
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize("task", ["classification", "segmentation"])
def test_class_weights_reach_the_cross_entropy(task: str) -> None:
    """Mutation: ``train.class_weights`` never given to the loss (a user's weighting of a
    rare class silently ignored). PyTorch's weighted mean, by hand: the sum of
    ``w[y] * -log p_y`` over the items (pixels) divided by the sum of their ``w[y]``."""
    from workflows.train.optim import make_loss

    logits = torch.tensor([[2.0, -1.0], [0.5, 1.5], [0.0, 0.3]])  # (B=3, K=2)
    target = torch.tensor([0, 1, 1])
    nll = -torch.log_softmax(logits, dim=1)[torch.arange(3), target]
    w = torch.tensor([1.0, 3.0])[target]
    expected = float((w * nll).sum() / w.sum())  # 0.3788; unweighted: 0.3054
    if task == "segmentation":  # the same three values as the pixels of a (1, 2, 1, 3) map
        logits, target = logits.T.reshape(1, 2, 1, 3), target.reshape(1, 1, 3)
    config = TrainConfig(class_weights=[1.0, 3.0], loss="ce" if task == "segmentation" else None)
    loss = make_loss(task, config)(logits, target)
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_plateau_lowers_the_rate_after_step_size_epochs_without_gain_either_way() -> None:
    """``schedule: plateau``: x ``gamma`` once the monitor has not improved for more than
    ``step_size`` epochs, for a loss (lower is better) and for an accuracy (higher is
    better: an accuracy that keeps rising never lowers the rate)."""
    from types import SimpleNamespace

    from workflows.train.loop import _end_of_epoch
    from workflows.train.optim import EarlyStopping, make_scheduler

    def rates(monitor: str, values: list[float]) -> list[float]:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        config = TrainConfig(schedule="plateau", step_size=2, gamma=0.5)
        stopper = EarlyStopping(monitor, "auto", None)
        scheduler = make_scheduler(opt, config)
        run = SimpleNamespace(monitor=monitor, scheduler=scheduler, stopper=stopper, config=config)
        out = []
        for epoch, value in enumerate(values, start=1):
            _end_of_epoch(run, epoch, {monitor: value})  # type: ignore[arg-type]
            out.append(opt.param_groups[0]["lr"])
        return out

    # epoch 1 sets the best; epochs 2-4 bring none: the 3rd bad epoch (> 2) halves the rate
    assert rates("val_loss", [1.0] * 6) == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    assert rates("val_loss", [1.0, 0.9, 0.8, 0.7, 0.6]) == [1.0] * 5
    assert rates("val_accuracy", [0.5, 0.6, 0.7, 0.8, 0.9]) == [1.0] * 5
    assert rates("val_accuracy", [0.9, 0.5, 0.5, 0.5]) == [1.0, 1.0, 1.0, 0.5]


def _sgd_epoch(grad_clip: float | None) -> list[float]:
    """The weights after one step of :func:`train_one_epoch` (SGD, lr 1, no momentum) on a
    linear model ``y = w . x`` with loss ``sum(y)`` over one sample ``x = (3, 4)``: the
    gradient is ``(3, 4)``, of global norm 5."""
    from workflows.train.epoch import train_one_epoch

    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.zero_()
    config = TrainConfig(optimizer="sgd", lr=1.0, momentum=0.0, grad_clip=grad_clip,
                         amp=False, progress=False)  # fmt: skip
    optimizer = make_optimizer(model, config)
    batch = {"image": torch.tensor([[3.0, 4.0]]), "label": torch.zeros(1, dtype=torch.int64)}

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return logits.sum()

    train_one_epoch(model, [batch], loss, optimizer, config,  # type: ignore[arg-type]
                    torch.device("cpu"), None, None)  # fmt: skip
    return model.weight.detach().flatten().tolist()


def test_grad_clip_scales_the_global_norm_down_to_the_limit() -> None:
    # unclipped: w = 0 - 1 * (3, 4); clipped to norm 1: the gradient (3, 4) / 5 = (0.6, 0.8)
    assert _sgd_epoch(None) == pytest.approx([-3.0, -4.0])
    assert _sgd_epoch(1.0) == pytest.approx([-0.6, -0.8], rel=1e-5)
    # a limit above the norm leaves the gradient as it is
    assert _sgd_epoch(10.0) == pytest.approx([-3.0, -4.0])


def test_train_loss_is_the_mean_over_samples_not_batches() -> None:
    """Mutation: each batch's loss weighted alike (or by the largest batch). A loss that is
    each batch's mean label: batches (0, 0) and (3,) give (0 + 0 + 3) / 3 = 1 per sample,
    not (0 + 3) / 2 = 1.5 per batch."""
    from workflows.train.epoch import train_one_epoch

    model = torch.nn.Linear(2, 4, bias=False)  # 4 classes: label 3 is one
    config = TrainConfig(optimizer="sgd", lr=1.0, amp=False, progress=False)
    batches = [{"image": torch.zeros(n, 2), "label": torch.tensor(labels)}
               for n, labels in ((2, [0, 0]), (1, [3]))]  # fmt: skip

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return logits.sum() * 0 + target.float().mean()

    row = train_one_epoch(model, batches, loss, make_optimizer(model, config), config,  # type: ignore[arg-type]
                          torch.device("cpu"), None, None)  # fmt: skip
    assert (row["train_loss"], row["samples"]) == (pytest.approx(1.0), 3)
