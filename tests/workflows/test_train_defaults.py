"""Training defaults of issue 17: warm-up, label smoothing, smoothed monitor, new epochs' draws."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, Subset

from models import build_model
from models.losses import TrainingLoss
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.run.config import RunConfig
from workflows.run.runner import train_config
from workflows.train.loop import TrainConfig, train
from workflows.train.optim import EarlyStopping, make_scheduler


def test_ema_monitor_ignores_a_single_lucky_epoch() -> None:
    values = [0.5, 0.9, 0.55, 0.7, 0.8, 0.85]
    # By hand, a = 0.5: 0.5, 0.7, 0.625, 0.6625, 0.73125, 0.790625.
    raw = EarlyStopping("val_dice", "auto", patience=None)
    smooth = EarlyStopping("val_dice", "auto", patience=None, ema=0.5)
    for e, v in enumerate(values, start=1):
        raw.update(e, v)
        smooth.update(e, v)
    assert (raw.best_epoch, raw.best) == (2, 0.9)
    assert smooth.best_epoch == 6 and smooth.best == pytest.approx(0.790625)
    state = smooth.state_dict()
    again = EarlyStopping("val_dice", "auto", patience=None, ema=0.5)
    again.load_state_dict(state)
    assert again.update(7, 0.790625) is False  # s stays 0.790625: equal is no gain
    assert again.smoothed == pytest.approx(0.790625)
    # a = 0.6 weighs the past (s_t = 0.6 s_(t-1) + 0.4 v_t), not the new value: by hand
    # 0.5, 0.6 x 0.5 + 0.4 x 0.9 = 0.66, 0.6 x 0.66 + 0.4 x 0.6 = 0.636
    heavy = EarlyStopping("val_dice", "auto", patience=None, ema=0.6)
    seen = []
    for e, v in enumerate([0.5, 0.9, 0.6], start=1):
        heavy.update(e, v)
        seen.append(heavy.smoothed)
    assert seen == pytest.approx([0.5, 0.66, 0.636])


def test_a_nan_epoch_leaves_the_smoothed_monitor_as_it_was() -> None:
    """Mutation: NaN averaged in (the average is lost and restarts at the next value, 0.7).
    By hand, a = 0.5: 0.5; NaN skipped, 0.5; then 0.5 x 0.5 + 0.5 x 0.7 = 0.6."""
    stopper = EarlyStopping("val_dice", "auto", patience=None, ema=0.5)
    gains = [stopper.update(e, v) for e, v in enumerate([0.5, math.nan, 0.7], start=1)]
    assert gains == [True, False, True]
    assert (stopper.best_epoch, stopper.smoothed) == (3, pytest.approx(0.6))


def test_min_epochs_delays_early_stopping() -> None:
    stopper = EarlyStopping("val_accuracy", "auto", patience=1, min_epochs=4)
    stops = []
    for e, v in enumerate([0.9, 0.8, 0.7, 0.6, 0.5], start=1):
        stopper.update(e, v)
        stops.append(stopper.should_stop)
    assert stops == [False, False, False, True, True]


def test_a_gain_restarts_the_patience() -> None:
    """Mutation sweep mut119: a new best that left the count of epochs without gain as it
    was (so that patience counted every bad epoch of the run) passed every test. Patience 2,
    by hand: bad epochs 0, 0, 1, 0 (a gain), 1, 2: the stop comes after epoch 6, not 5."""
    stopper = EarlyStopping("val_loss", "auto", patience=2)
    stops = []
    for e, v in enumerate([1.0, 0.9, 0.95, 0.8, 0.85, 0.86], start=1):
        stopper.update(e, v)
        stops.append(stopper.should_stop)
    assert stops == [False] * 5 + [True]
    assert (stopper.best_epoch, stopper.bad_epochs) == (4, 2)


def _lrs(**settings: Any) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = make_scheduler(opt, TrainConfig(lr=1.0, **settings))
    out = []
    for _ in range(settings["epochs"]):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_warmup_then_cosine_by_hand() -> None:
    c = math.cos
    expected = [1 / 3, 2 / 3, 1.0, 0.5 * (1 + c(math.pi / 4)), 0.5, 0.5 * (1 + c(3 * math.pi / 4))]
    assert _lrs(epochs=6, warmup_epochs=2, schedule="cosine") == pytest.approx(expected)
    assert _lrs(epochs=4, warmup_epochs=3, schedule="none") == pytest.approx([0.25, 0.5, 0.75, 1])


def test_step_schedule_multiplies_by_gamma_every_step_size_epochs() -> None:
    """Mutation sweep mut119: StepLR given ``step_size + 1`` passed every test."""
    # x 0.5 after epochs 2 and 4: 1, 1, 0.5, 0.5, 0.25
    expected = [1, 1, 0.5, 0.5, 0.25]
    assert _lrs(epochs=5, schedule="step", step_size=2, gamma=0.5) == pytest.approx(expected)
    # one warm-up epoch at lr / 2, then the step schedule from the full lr
    warm = _lrs(epochs=6, schedule="step", step_size=2, gamma=0.1, warmup_epochs=1)
    assert warm == pytest.approx([0.5, 1, 1, 0.1, 0.1, 0.01])


def test_label_smoothing_matches_the_formula() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 1.0, 3.0]])
    target = torch.tensor([0, 1])
    logp = np.log(np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True))
    eps, k = 0.1, 3
    # Szegedy et al. 2016: q = (1 - eps) onehot + eps / K.
    q = np.full((2, k), eps / k)
    q[[0, 1], [0, 1]] += 1 - eps
    expected = float(-(q * logp).sum(1).mean())
    got = TrainingLoss("ce", label_smoothing=eps)(logits, target)
    assert float(got) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"label_smoothing": 1.0}, "train.label_smoothing"),
        ({"monitor_ema": -0.1}, "train.monitor_ema"),
        ({"warmup_epochs": -1}, "train.warmup_epochs"),
        ({"warmup_epochs": 2, "schedule": "plateau"}, "train.warmup_epochs"),
    ],
)
def test_bad_new_settings_name_the_key(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**overrides)


def test_run_config_passes_the_new_settings_through() -> None:
    raw = {
        "task": "classification",
        "data": {"source": "x"},
        "model": {"type": "mlp_classifier"},
        "train": {"warmup_epochs": 3, "label_smoothing": 0.1, "monitor_ema": 0.6,
                  "min_epochs": 5, "class_weights": [1.0, 3.0]},
    }  # fmt: skip
    tc = train_config(RunConfig.model_validate(raw))
    assert (tc.warmup_epochs, tc.label_smoothing, tc.monitor_ema, tc.min_epochs) == (
        3, 0.1, 0.6, 5,
    )  # fmt: skip
    assert tc.dice_batch is True  # the default: the Dice pooled over the batch
    assert tc.class_weights == [1.0, 3.0]  # and on to the loss (test_optim)


def test_dice_batch_reaches_the_segmentation_loss() -> None:
    from workflows.train.optim import make_loss

    raw = {"task": "segmentation", "data": {"source": "x"}, "model": {"type": "unet"},
           "train": {"loss": "dice", "dice_batch": False}}  # fmt: skip
    loss = make_loss("segmentation", train_config(RunConfig.model_validate(raw)))
    on, off = [[[-50.0, -50.0]], [[50.0, 50.0]]], [[[50.0, 50.0]], [[-50.0, -50.0]]]
    target = torch.tensor([[[1, 1]], [[1, 0]]])  # Dice 1 and 0 per image; 0.8 pooled
    assert float(loss(torch.tensor([on, off]), target)) == pytest.approx(0.5, abs=1e-4)


class _EpochRecorder(Dataset[dict[str, Any]]):
    """Wraps a dataset and records every ``set_epoch`` call."""

    def __init__(self, inner: PhantomDataset) -> None:
        self.inner = inner
        self.epochs: list[int] = []

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.inner[i]

    def set_epoch(self, epoch: int) -> None:
        self.epochs.append(epoch)


def test_loop_smooths_monitor_warms_up_and_sets_epochs(tmp_path: Path) -> None:
    base = _EpochRecorder(PhantomDataset(24, size=16, task="segmentation", seed=1))
    val = PhantomDataset(8, size=16, task="segmentation", seed=2)
    torch.manual_seed(0)
    model = build_model("mlp_segmenter", hidden=(8,), context=4)
    config = TrainConfig(epochs=4, batch_size=8, lr=1e-2, warmup_epochs=1, schedule="cosine",
                         monitor_ema=0.5, seed=3, progress=False)  # fmt: skip
    result = train(model, Subset(base, range(24)), val, config, tmp_path)
    assert base.epochs == [1, 2, 3, 4]  # found through the Subset, once per epoch
    rows = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in rows] == pytest.approx(
        [5e-3, 1e-2, 0.5e-2 * (1 + math.cos(math.pi / 3)), 0.5e-2 * (1 + math.cos(2 * math.pi / 3))]
    )
    s = rows[0]["val_dice"]
    for r in rows[1:]:
        s = 0.5 * s + 0.5 * r["val_dice"]
        assert r["val_dice_ema"] == pytest.approx(s)
    best = max(range(4), key=lambda i: rows[i]["val_dice_ema"])
    assert result.best_epoch == best + 1
