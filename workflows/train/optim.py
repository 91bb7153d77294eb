"""Optimisation set-up for :mod:`workflows.train.loop`: device, AMP, optimizer, schedule, loss,
early stopping. Each piece is a small function of the :class:`~workflows.train.config.TrainConfig`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from models.losses import TrainingLoss
from pipeline.errors import ConfigError
from pipeline.words import counted

if TYPE_CHECKING:
    from workflows.train.config import TrainConfig

log = logging.getLogger("radpipe")

#: The settings warnings said so far in a :func:`settings_said_once` block (else ``None``).
_SAID: ContextVar[set[str] | None] = ContextVar("_SAID", default=None)


@contextmanager
def settings_said_once() -> Iterator[None]:
    """Within the block, each warning :func:`make_scheduler` gives of the settings is said
    once: ``radpipe run`` trains its folds in one (one config, so the same warning each fold,
    said k times until 2026-12-04)."""
    token = _SAID.set(set())
    try:
        yield
    finally:
        _SAID.reset(token)


def _say(message: str, *args: Any) -> None:
    said = _SAID.get()
    if said is not None:
        if (text := message % args) in said:
            return
        said.add(text)
    log.warning(message, *args)


class EarlyStopping:
    """Track the best value of one metric; stop after ``patience`` epochs without a gain.

    With ``ema`` ``a > 0`` the tracked value is the exponential moving average
    ``s_t = a s_(t-1) + (1 - a) v_t`` (``s_1 = v_1``), so one lucky or unlucky epoch on a
    small validation set neither becomes the best checkpoint nor stops the run. Stopping
    never happens before epoch ``min_epochs``. A NaN value is never a gain and leaves the
    average unchanged.
    """

    def __init__(
        self,
        monitor: str,
        mode: str,
        patience: int | None,
        *,
        ema: float = 0.0,
        min_epochs: int = 0,
    ) -> None:
        self.monitor = monitor
        self.mode = mode if mode != "auto" else ("min" if monitor.endswith("loss") else "max")
        self.patience = patience
        self.ema = ema
        self.min_epochs = min_epochs
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.bad_epochs = 0
        self.epoch = 0
        self.smoothed = math.nan

    def update(self, epoch: int, value: float) -> bool:
        """Record ``value``; return whether the (smoothed) value is a new best."""
        self.epoch = epoch
        value = float(value)
        if self.ema > 0 and not math.isnan(value):
            if math.isnan(self.smoothed):
                self.smoothed = value
            else:
                self.smoothed = self.ema * self.smoothed + (1 - self.ema) * value
            value = self.smoothed
        better = value < self.best if self.mode == "min" else value > self.best
        if better:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        else:
            self.bad_epochs += 1
        return bool(better)

    @property
    def should_stop(self) -> bool:
        return (
            self.patience is not None
            and self.bad_epochs >= self.patience
            and self.epoch >= self.min_epochs
        )

    def say_if_stopped(self, epochs: int, *, said_by: bool = True) -> None:
        """Say that early stopping ended training (of ``epochs``), and why, when it did and
        ``said_by`` (the process that writes the log): the epoch lines stopped short and the
        evaluation followed, without a word (until 2026-12-03)."""
        if not (said_by and self.should_stop and self.best_epoch):
            return
        what = self.monitor + (f" (smoothed, train.monitor_ema {self.ema:g})" if self.ema else "")
        log.info(
            "early stopping: training ended after epoch %d of %d, as %s had not improved for "
            "%s (train.early_stopping %d); the best was epoch %d (%.4f)",
            self.epoch, epochs, what, counted(self.bad_epochs, "epoch", "epochs"), self.patience,
            self.best_epoch, self.best,
        )  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "epoch": self.epoch,
            "smoothed": self.smoothed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.bad_epochs = int(state["bad_epochs"])
        self.epoch = int(state.get("epoch", self.best_epoch + self.bad_epochs))
        self.smoothed = float(state.get("smoothed", math.nan))


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("The 'train.device' setting is 'cuda' but no CUDA device is available.")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def amp_dtype_for(device: torch.device, amp: bool) -> torch.dtype | None:
    """bf16 autocast on GPUs that support it, else fp16 (with a GradScaler); none on CPU."""
    if not amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD (momentum, Nesterov) over the trainable parameters only."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ConfigError("The model has no trainable parameters (is everything frozen?).")
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, weight_decay=config.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> Any:
    """``step`` (x gamma every step_size epochs), ``cosine`` (to 0 over all epochs),
    ``plateau`` (x gamma after step_size epochs without gain on the monitor), or ``None``.

    ``warmup_epochs`` ``w > 0`` multiplies the LR of epoch ``e`` (1-based) by ``e / (w + 1)``
    for ``e <= w``; the schedule then starts from the full ``lr`` (cosine over the remaining
    ``epochs - w`` epochs). Stepped once per epoch.
    """
    sched = torch.optim.lr_scheduler
    warm = config.warmup_epochs
    _say_min_epochs(config)
    if config.schedule == "plateau":
        return sched.ReduceLROnPlateau(optimizer, factor=config.gamma, patience=config.step_size)
    main: Any = None
    if config.schedule == "step":
        main = sched.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    elif config.schedule == "cosine":
        main = sched.CosineAnnealingLR(optimizer, T_max=max(config.epochs - warm, 1))
    if not warm:
        return main
    if warm >= config.epochs:  # e.g. `--set train.epochs=2` on a config with warmup_epochs: 3
        top = config.lr * config.epochs / (warm + 1)
        after = f"; the {config.schedule} schedule never starts" if main is not None else ""
        _say("train.warmup_epochs %d is not below train.epochs %d: the learning rate ramps up "
             "for the whole run and ends at %.3g, below train.lr %g%s. Set warmup_epochs below "
             "epochs (0: no ramp).", warm, config.epochs, top, config.lr, after)  # fmt: skip
    ramp = sched.LinearLR(optimizer, start_factor=1 / (warm + 1), end_factor=1.0, total_iters=warm)
    if main is None:
        return ramp
    return sched.SequentialLR(optimizer, [ramp, main], milestones=[warm])


def _say_min_epochs(config: TrainConfig) -> None:
    """Warn of a ``train.min_epochs`` above ``train.epochs`` (as of ``warmup_epochs`` at or above
    it): the run ends first, so early stopping never fires. Not refused: a resumed run may
    raise ``train.epochs`` past it."""
    if config.min_epochs <= config.epochs:
        return
    stops = ("so early stopping never fires" if config.early_stopping else
             "and early stopping, which it delays, is off (train.early_stopping)")  # fmt: skip
    _say("train.min_epochs %d is above train.epochs %d: the run ends at epoch %d first, %s. "
         "Set min_epochs to at most epochs (0: no minimum).", config.min_epochs, config.epochs,
         config.epochs, stops)  # fmt: skip


def make_loss(task: str, config: TrainConfig) -> nn.Module:
    """Cross-entropy (class weights) for classification; ce / dice / dice_ce for masks."""
    kind = config.loss or ("dice_ce" if task == "segmentation" else "ce")
    if task == "classification" and kind != "ce":
        raise ConfigError(f"The 'train.loss' setting {kind!r} needs a segmentation task; use 'ce'.")
    weight = None
    if config.class_weights is not None:
        weight = torch.tensor(config.class_weights, dtype=torch.float32)
    if task == "classification" and config.boundary_weight:
        raise ConfigError("The 'train.boundary_weight' setting needs a segmentation task.")
    return TrainingLoss(
        kind,
        weight,
        label_smoothing=config.label_smoothing,
        dice_batch=config.dice_batch,
        boundary_weight=config.boundary_weight,
        boundary_width=config.boundary_width,
    )
