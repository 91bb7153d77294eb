"""The optimisation settings of one training run: :class:`TrainConfig`.

This dataclass is the single source of truth for the training settings and their rules: the
``train:`` section of a run config (:class:`workflows.run.config.TrainSection`) validates by
constructing it, so a bad value is refused with the same message from YAML and from Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.errors import ConfigError

#: The valid values of the settings that name a choice.
CHOICES: dict[str, tuple[Any, ...]] = {
    "optimizer": ("adam", "adamw", "sgd"),
    "schedule": ("none", "step", "cosine", "plateau"),
    "loss": (None, "ce", "dice", "dice_ce"),
    "mode": ("auto", "min", "max"),
    "device": ("auto", "cpu", "cuda"),
}
#: Settings that must be > 0 (when not ``None``).
POSITIVE = (
    "epochs", "batch_size", "lr", "step_size", "gamma", "checkpoint_every", "grad_clip",
    "early_stopping",
)  # fmt: skip
#: Settings that must be >= 0.
NON_NEGATIVE = ("momentum", "weight_decay", "l1", "num_workers")


@dataclass
class TrainConfig:
    """Optimisation settings (the names match ``train:`` in a run config).

    ``weight_decay`` is L2 regularisation (decoupled for ``adamw``); ``l1`` adds
    ``l1 * sum |w|`` over weight matrices and kernels. ``loss=None`` picks ``ce`` for
    classification and ``dice_ce`` for segmentation. ``early_stopping`` is the patience in
    epochs (``None``: off) on ``monitor`` (default ``val_accuracy`` / ``val_dice``, or
    ``train_loss`` without validation data); ``mode`` ``auto`` minimises names ending in
    ``loss`` and maximises the rest. ``best.pt`` follows the same metric. ``step_size`` is
    the number of epochs between steps of the ``step`` schedule and ``gamma`` its decay
    factor (also the ``plateau`` factor).

    Raises
    ------
    ConfigError
        A setting is out of range; the message starts with its key, e.g. ``train.lr: ...``.
    """

    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    l1: float = 0.0
    schedule: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    loss: str | None = None
    class_weights: list[float] | None = None
    grad_clip: float | None = None
    early_stopping: int | None = None
    monitor: str | None = None
    mode: str = "auto"
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    num_workers: int = 0
    checkpoint_every: int = 1
    progress: bool = True

    def __post_init__(self) -> None:
        for key, valid in CHOICES.items():
            if getattr(self, key) not in valid:
                shown = ", ".join(repr(v) for v in valid if v is not None)
                raise ConfigError(
                    f"train.{key}: must be one of {shown}; got {getattr(self, key)!r}"
                )
        for key in POSITIVE:
            value = getattr(self, key)
            if value is not None and not value > 0:
                raise ConfigError(f"train.{key}: must be > 0; got {value!r}")
        for key in NON_NEGATIVE:
            if getattr(self, key) < 0:
                raise ConfigError(f"train.{key}: must be >= 0; got {getattr(self, key)!r}")
        if self.momentum >= 1:
            raise ConfigError(f"train.momentum: must be < 1; got {self.momentum!r}")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ConfigError("train.nesterov: needs optimizer 'sgd' with momentum > 0")
