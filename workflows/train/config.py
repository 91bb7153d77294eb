"""The optimisation settings of one training run: :class:`TrainConfig`.

This dataclass is the single source of truth for the training settings and their rules: the
``train:`` section of a run config (:class:`workflows.run.config.TrainSection`) validates by
constructing it, so a bad value is refused with the same message from YAML and from Python.
"""

from __future__ import annotations

import dataclasses
import math
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
    "average_anchor": ("best", "last"),
}
#: Settings that must be > 0 (when not ``None``).
POSITIVE = (
    "epochs", "batch_size", "lr", "step_size", "gamma", "checkpoint_every", "grad_clip",
    "early_stopping", "boundary_width",
)  # fmt: skip
#: Settings that must be >= 0.
NON_NEGATIVE = (
    "momentum", "weight_decay", "l1", "num_workers", "warmup_epochs", "min_epochs",
    "average_epochs", "checkpoint_interval_s", "boundary_weight",
)  # fmt: skip
#: Settings that must be finite: ``lr: .inf`` passed ``> 0``, and the run stopped in its first
#: batch with NaN weights, its directory kept with advice to resume it. ``grad_clip`` and
#: ``checkpoint_interval_s`` may be ``.inf`` (never clip; never by time).
FINITE = ("lr", "gamma", "weight_decay", "l1", "boundary_weight")
#: Settings that must be in [0, 1).
UNIT_INTERVAL = ("label_smoothing", "monitor_ema")
#: The largest seed: numpy's legacy and scikit-learn's bound; a negative seed, which numpy
#: refuses, stopped a run once its directory was made (and ``seed * 1_000_003`` must stay
#: below torch's 2**64).
MAX_SEED = 2**32 - 1


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

    ``warmup_epochs`` raises the learning rate linearly from ``lr / (warmup_epochs + 1)`` to
    ``lr`` before the ``schedule`` starts (a cosine then decays over the remaining epochs).
    ``label_smoothing`` is cross-entropy's (Szegedy et al. 2016). ``dice_batch`` (segmentation)
    pools the soft Dice of ``dice``/``dice_ce`` over the batch (``True``) or takes it per image
    and averages (``False``; :func:`models.losses.soft_dice_loss`). ``boundary_weight`` ``b``
    (segmentation) counts the cross-entropy of pixels within ``boundary_width`` pixels of an
    outline of the target mask ``1 + b`` times (:class:`models.losses.TrainingLoss`; ``0``:
    off). ``monitor_ema`` ``a > 0``
    tracks ``s_t = a s_(t-1) + (1 - a) v_t`` of the monitored value instead of the raw one
    (for early stopping and ``best.pt``; logged as ``<monitor>_ema``), and early stopping never
    fires before ``min_epochs``.

    ``average_epochs`` ``k >= 2`` averages the weights of ``k`` consecutive epochs at the end
    of training (:mod:`workflows.train.average`; batch-norm statistics recomputed on the
    training data): with ``average_anchor`` ``best`` the ``k`` epochs ending at the best
    epoch of the monitor, with ``last`` the last ``k`` epochs run. The averaged model is
    evaluated on the validation data and becomes ``best.pt`` (the model evaluated and used by
    ``predict``); the single best epoch is kept as ``best_single.pt``, ``last.pt`` stays the
    last epoch's training state (for resuming). ``0``: off.

    ``last.pt`` is due every ``checkpoint_every`` epochs and ``best.pt`` whenever the monitor
    improves; both are written (on a background thread) at most every
    ``checkpoint_interval_s`` seconds, at the end and when training stops on an error, so
    short epochs do not pay for a file each. A process killed outright resumes from the last
    written ``last.pt``, at most ``checkpoint_interval_s`` seconds (plus one epoch) behind,
    and replays the rest to the same result. ``0`` writes every epoch.

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
    checkpoint_interval_s: float = 60.0
    progress: bool = True
    warmup_epochs: int = 0
    label_smoothing: float = 0.0
    monitor_ema: float = 0.0
    min_epochs: int = 0
    average_epochs: int = 0
    average_anchor: str = "best"
    dice_batch: bool = True
    boundary_weight: float = 0.0
    boundary_width: int = 2

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
        for key in FINITE:
            if not math.isfinite(getattr(self, key)):
                raise ConfigError(
                    f"train.{key}: must be a finite number; got {getattr(self, key)!r}"
                )
        for key in NON_NEGATIVE:
            if not getattr(self, key) >= 0:  # NaN too
                raise ConfigError(f"train.{key}: must be >= 0; got {getattr(self, key)!r}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(
                f"seed: must be a whole number from 0 to {MAX_SEED}; got {self.seed!r}"
            )
        for key in UNIT_INTERVAL:
            if not 0.0 <= getattr(self, key) < 1.0:
                raise ConfigError(f"train.{key}: must be in [0, 1); got {getattr(self, key)!r}")
        if self.warmup_epochs and self.schedule == "plateau":
            raise ConfigError(
                "train.warmup_epochs: works with schedule none, step or cosine, not 'plateau'"
            )
        if self.class_weights is not None and not (
            all(math.isfinite(w) and w >= 0 for w in self.class_weights)
            and any(w > 0 for w in self.class_weights)
        ):
            raise ConfigError(
                "train.class_weights: must be finite and >= 0, at least one > 0; got "
                f"{self.class_weights!r}"
            )
        if self.loss == "dice" and (
            self.class_weights is not None or self.label_smoothing or self.boundary_weight
        ):
            raise ConfigError(
                "train.class_weights, train.label_smoothing and train.boundary_weight act on "
                "the cross-entropy, which loss 'dice' does not have; use loss 'dice_ce' (or "
                "'ce'), or leave them unset"
            )
        if self.average_epochs == 1:
            raise ConfigError("train.average_epochs: 0 (off) or >= 2 epochs to average; got 1")
        if self.momentum >= 1:
            raise ConfigError(f"train.momentum: must be < 1; got {self.momentum!r}")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ConfigError("train.nesterov: needs optimizer 'sgd' with momentum > 0")


#: Settings a resumed ``train()`` may change: speed and bookkeeping only (``epochs`` too,
#: except under the cosine schedule, whose length is part of its state).
RESUMABLE_CHANGES = ("progress", "checkpoint_interval_s", "checkpoint_every", "num_workers",
                     "device")  # fmt: skip


def check_resume_settings(
    saved: dict[str, Any],
    config: TrainConfig,
    where: str,
    specs: tuple[dict[str, Any] | None, dict[str, Any] | None] = (None, None),
) -> None:
    """Refuse to resume a run saved with other training settings (``saved``: the
    ``train_config`` of its ``last.pt``): the optimizer, schedule and RNG states restored
    from it belong to those settings, and going on would silently mix the two.

    ``specs``: the model spec saved in ``last.pt`` and the model's now (registered models;
    ``None`` otherwise). A model of other hyperparameters whose tensors still fit (another
    dropout, activation or batch-norm setting) loaded the weights and went on without a
    word; it is refused too.

    Raises
    ------
    ConfigError
        Naming every changed setting, old and new value.
    """
    now = dataclasses.asdict(config)
    allowed = set(RESUMABLE_CHANGES) | ({"epochs"} if config.schedule != "cosine" else set())
    changed = [
        f"{key} {saved[key]!r} -> {now[key]!r}"
        for key in sorted(now)
        if key in saved and key not in allowed and _plain(saved[key]) != _plain(now[key])
    ]
    old_spec, new_spec = specs
    if old_spec is not None and new_spec is not None:
        changed += [
            f"model {key} {old_spec.get(key)!r} -> {new_spec.get(key)!r}"
            for key in sorted(set(old_spec) | set(new_spec))
            if _plain(old_spec.get(key)) != _plain(new_spec.get(key))
        ]
    if changed:
        raise ConfigError(
            f"Cannot resume {where} with other training settings ({'; '.join(changed)}): "
            "its optimizer, schedule and random states belong to the saved ones. Resume with "
            "the same settings, or start a new run (init_from to start from its weights)."
        )


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def epoch_metrics(task: str) -> tuple[str, ...]:
    """The numbers each epoch logs that ``train.monitor`` can name, for ``task``.

    ``train_loss``, and from a validation split
    :func:`workflows.train.epoch.evaluate`'s ``val_loss``, ``val_accuracy`` and ``val_dice``
    (segmentation) or ``val_balanced_accuracy`` (classification).
    """
    last = "val_dice" if task == "segmentation" else "val_balanced_accuracy"
    return ("train_loss", "val_loss", "val_accuracy", last)
