"""The optimisation settings of one training run: :class:`TrainConfig`."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import ConfigError


@dataclass
class TrainConfig:
    """Optimisation settings (the names match ``train:`` in a run config).

    ``weight_decay`` is L2 regularisation (decoupled for ``adamw``); ``l1`` adds
    ``l1 * sum |w|`` over weight matrices and kernels. ``loss=None`` picks ``ce`` for
    classification and ``dice_ce`` for segmentation. ``early_stopping`` is the patience in
    epochs (``None``: off) on ``monitor`` (default ``val_accuracy`` / ``val_dice``, or
    ``train_loss`` without validation data); ``mode`` ``auto`` minimises names ending in
    ``loss`` and maximises the rest. ``best.pt`` follows the same metric.
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
        choices = {
            "optimizer": ("adam", "adamw", "sgd"),
            "schedule": ("none", "step", "cosine", "plateau"),
            "loss": (None, "ce", "dice", "dice_ce"),
            "mode": ("auto", "min", "max"),
            "device": ("auto", "cpu", "cuda"),
        }
        for key, valid in choices.items():
            if getattr(self, key) not in valid:
                raise ConfigError(
                    f"The 'train.{key}' setting must be one of {', '.join(map(str, valid))}; "
                    f"got {getattr(self, key)!r}."
                )
        for key in ("epochs", "batch_size", "lr", "step_size", "checkpoint_every"):
            if not getattr(self, key) > 0:
                raise ConfigError(
                    f"The 'train.{key}' setting must be > 0; got {getattr(self, key)}."
                )
        for key in ("weight_decay", "l1", "momentum", "num_workers"):
            if getattr(self, key) < 0:
                raise ConfigError(
                    f"The 'train.{key}' setting must be >= 0; got {getattr(self, key)}."
                )
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ConfigError(
                "The 'train.nesterov' setting needs optimizer 'sgd' with momentum > 0."
            )
