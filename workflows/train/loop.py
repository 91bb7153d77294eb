"""The training loop, readable top to bottom: :func:`train`, whose named steps are set-up,
resume, one epoch of training, validation, end of epoch (schedule, early stopping) and
checkpointing; the work of one epoch lives in :mod:`workflows.train.epoch`.

Datasets yield dicts ``{"image": (C, ...) float32, "label": int64 scalar | "mask": int64
(spatial), "id": str}``; the task follows from the first item (a ``mask`` means
segmentation; targets the model cannot score are refused, :mod:`workflows.train.targets`).
Each epoch: shuffled minibatches -> forward (autocast on CUDA) -> loss (+ L1) -> backward ->
gradient clipping -> optimizer step; then validation metrics (``ConfusionAccumulator``), the
LR schedule, a line in ``log.jsonl``, checkpoints ``last.pt`` / ``best.pt``.

Resuming (``resume=True``) restores model, optimizer, scheduler, scaler, RNG and early-stopping
states from ``checkpoints/last.pt``; epoch ``e``'s shuffle depends on ``(seed, e)`` only.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.data import Dataset

from pipeline.errors import ConfigError
from pipeline.interrupts import held_interrupts
from pipeline.io_atomic import atomic_write_text, remove_orphaned_temporaries
from workflows.train.average import WeightWindow, average_weights, has_batch_norm, short_window
from workflows.train.checkpoint import (
    CheckpointWriter,
    get_rng_state,
    load_checkpoint,
    seed_everything,
    set_rng_state,
)
from workflows.train.config import TrainConfig, check_resume_settings
from workflows.train.epoch import (
    append_log,
    check_finite,
    epoch_loader,
    evaluate,
    restart_log,
    say_if_never_improved,
    summed_train_loss,
    train_one_epoch,
    training_loss_monitor,
)
from workflows.train.lone_batch import drop_lone_batch
from workflows.train.optim import (
    EarlyStopping,
    amp_dtype_for,
    make_loss,
    make_optimizer,
    make_scheduler,
    pick_device,
)
from workflows.train.targets import task_of

if TYPE_CHECKING:
    from workflows.train.ddp import DistributedContext

EpochCallback = Callable[[int, dict[str, Any]], None]


@dataclass
class TrainResult:
    """What :func:`train` did: the best epoch and metric, and every epoch's log row."""

    run_dir: Path
    monitor: str
    best_metric: float
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    device: str
    history: list[dict[str, Any]] = field(default_factory=list)
    #: What checkpoint averaging did (``average.json``); ``None`` when it is off.
    averaged: dict[str, Any] | None = None


def train(
    model: nn.Module,
    train_ds: Dataset[dict[str, Any]],
    val_ds: Dataset[dict[str, Any]] | None,
    config: TrainConfig,
    run_dir: str | Path,
    resolved_config: dict[str, Any] | None = None,
    *,
    resume: bool = False,
    on_epoch_end: EpochCallback | None = None,
    distributed: DistributedContext | None = None,
) -> TrainResult:
    """Train ``model`` in place; write ``log.jsonl`` and ``checkpoints/`` under ``run_dir``.

    Parameters
    ----------
    model
        Any module mapping ``(B, C, ...)`` to logits ``(B, K)`` or ``(B, K, *spatial)``;
        registered radpipe models also get their spec stored, for ``load_model_from_checkpoint``.
    train_ds, val_ds
        Datasets of dict items (see the module docstring); ``val_ds`` may be ``None``.
    config
        The optimisation settings.
    run_dir
        Output folder (created).
    resolved_config
        The whole run's resolved config (plain types), stored in every checkpoint.
    resume
        Continue from ``run_dir/checkpoints/last.pt`` when it exists; else an earlier run's
        ``last.pt``, ``best.pt``, ``best_single.pt`` are removed first (and without ``resume``
        its ``log.jsonl`` replaced, unsaid); new ones at most every ``checkpoint_interval_s``.
    on_epoch_end
        Called with ``(epoch, log_row)`` after each epoch, once the checkpoint writes started
        so far are on disk (every epoch's with ``checkpoint_interval_s=0``).
    distributed
        DDP under ``torchrun`` (:mod:`workflows.train.ddp`): each rank trains its
        shard of every epoch (``batch_size`` stays the global batch), losses and validation
        counts are summed over ranks, and only rank 0 writes checkpoints, the log and calls
        ``on_epoch_end``.
    """
    run = _set_up(model, train_ds, val_ds is not None, config, Path(run_dir), distributed)
    if run.main:  # a checkpoint write cut off by a kill leaves a whole model's temporary file
        remove_orphaned_temporaries(run.ckpt_dir)
    if run.main and not (resume and (run.ckpt_dir / "last.pt").is_file()):  # nothing to resume
        for name in ("last.pt", "best.pt", "best_single.pt"):
            (run.ckpt_dir / name).unlink(missing_ok=True)
    start = _resume(run) if resume else 0
    history = restart_log(run.run_dir / "log.jsonl", start, resume) if run.main else []
    with run.writer:  # checkpoints are written in the background; on disk when train returns
        for epoch in range(start + 1, config.epochs + 1):
            t0 = time.perf_counter()
            row = _train_epoch(run, train_ds, epoch)
            if val_ds is not None:
                row |= _validate(run, val_ds, epoch)
            row["time_s"] = round(time.perf_counter() - t0, 4)
            check_finite(run.model, epoch, row, losses=run.scaler is None,
                         best_epoch=run.stopper.best_epoch)  # fmt: skip
            improved = _end_of_epoch(run, epoch, row)
            if run.window is not None:
                run.window.record(epoch, run.model, improved)
            _record(run, epoch, row, improved, history, resolved_config or {})
            if on_epoch_end is not None and run.main:
                run.writer.wait()  # the callback may read this epoch's checkpoint
                on_epoch_end(epoch, row)
            if run.stopper.should_stop:
                break
        averaged = _average(run, train_ds, val_ds, resolved_config or {})
    say_if_never_improved(run.monitor, run.stopper.best_epoch, history if run.main else [])
    run.stopper.say_if_stopped(config.epochs, said_by=run.main)
    return TrainResult(
        run_dir=run.run_dir,
        monitor=run.monitor,
        best_metric=run.stopper.best,
        best_epoch=run.stopper.best_epoch,
        epochs_run=history[-1]["epoch"] if history else 0,
        stopped_early=run.stopper.should_stop,
        device=str(run.device),
        history=history,
        averaged=averaged,
    )


# -- the named steps of train() -------------------------------------------------------------
@dataclass
class _Run:
    """Everything :func:`train` sets up once, before the first epoch."""

    config: TrainConfig
    run_dir: Path
    task: str
    device: torch.device
    main: bool  # rank 0, or not distributed: writes the log and the checkpoints
    distributed: DistributedContext | None
    model: nn.Module
    net: nn.Module  # the model, or its DDP wrapper: forward/backward go through it
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler | None
    amp_dtype: torch.dtype | None
    loss_fn: nn.Module
    monitor: str
    stopper: EarlyStopping
    writer: CheckpointWriter  # writes at most every config.checkpoint_interval_s
    window: WeightWindow | None = None  # the epochs kept for averaging (average_epochs)
    drop_last: bool = False  # a last batch of one sample that batch norm refuses

    @property
    def ckpt_dir(self) -> Path:
        return self.run_dir / "checkpoints"


def _set_up(
    model: nn.Module,
    train_ds: Dataset[dict[str, Any]],
    has_val: bool,
    config: TrainConfig,
    run_dir: Path,
    distributed: DistributedContext | None,
) -> _Run:
    """Seed, place the model, build optimizer/schedule/scaler/loss, pick the monitor."""
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    task = task_of(train_ds)
    device = distributed.device if distributed else pick_device(config.device)
    seed_everything(config.seed)
    model.to(device)
    net = distributed.wrap(model) if distributed else model
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config)
    amp_dtype = amp_dtype_for(device, config.amp)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    loss_fn = make_loss(task, config).to(device)
    default = "val_dice" if task == "segmentation" else "val_accuracy"
    monitor = config.monitor or (
        default if has_val else training_loss_monitor(config.early_stopping)
    )
    return _Run(
        config=config, run_dir=run_dir, task=task, device=device,
        main=distributed is None or distributed.is_main, distributed=distributed,
        model=model, net=net, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
        amp_dtype=amp_dtype, loss_fn=loss_fn, monitor=monitor,
        stopper=EarlyStopping(monitor, config.mode, config.early_stopping,
                              ema=config.monitor_ema, min_epochs=config.min_epochs),
        writer=CheckpointWriter(config.checkpoint_interval_s),
        window=(WeightWindow(config.average_epochs, config.average_anchor)
                if config.average_epochs else None),
        drop_last=drop_lone_batch(model, train_ds, config, distributed),
    )  # fmt: skip


def _train_epoch(run: _Run, train_ds: Dataset[dict[str, Any]], epoch: int) -> dict[str, Any]:
    """One epoch of training: the log row's ``epoch``, ``lr``, ``train_loss`` and timings."""
    _set_epoch(train_ds, epoch)  # random stages draw from (seed, epoch, index)
    loader = epoch_loader(train_ds, run.config, shuffle=True, epoch=epoch, device=run.device,
                          distributed=run.distributed, drop_last=run.drop_last)  # fmt: skip
    row: dict[str, Any] = {"epoch": epoch, "lr": run.optimizer.param_groups[0]["lr"]}
    row |= train_one_epoch(run.net, loader, run.loss_fn, run.optimizer, run.config, run.device,
                           run.amp_dtype, run.scaler)  # fmt: skip
    if run.distributed is not None:
        row |= summed_train_loss(run.distributed, row)
    return row


def _validate(run: _Run, val_ds: Dataset[dict[str, Any]], epoch: int) -> dict[str, float]:
    """Validation loss and metrics of the epoch (see :func:`evaluate`)."""
    loader = epoch_loader(val_ds, run.config, shuffle=False, epoch=epoch, device=run.device,
                     distributed=run.distributed)  # fmt: skip
    return evaluate(run.model, loader, run.loss_fn, run.task, run.device, run.amp_dtype,
                    distributed=run.distributed)  # fmt: skip


def _end_of_epoch(run: _Run, epoch: int, row: dict[str, Any]) -> bool:
    """Step the LR schedule and early stopping on the monitored metric; True if it improved."""
    if run.monitor not in row:
        raise ConfigError(
            f"The 'train.monitor' metric {run.monitor!r} is not one of {sorted(row)}."
        )
    if isinstance(run.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        run.scheduler.step(row[run.monitor] if run.stopper.mode == "min" else -row[run.monitor])
    elif run.scheduler is not None:
        run.scheduler.step()
    improved = run.stopper.update(epoch, row[run.monitor])
    if run.config.monitor_ema > 0:
        row[f"{run.monitor}_ema"] = run.stopper.smoothed
    return improved


def _record(
    run: _Run, epoch: int, row: dict[str, Any], improved: bool, history: list[Any], resolved: Any
) -> None:
    """The epoch's log line and its checkpoint's hand-over, an interrupt held till both
    (not through the ranks' wait: a rank that died must not make the others deaf to it)."""
    with held_interrupts():
        if run.main:
            append_log(run.run_dir / "log.jsonl", row)
        history.append(row)
        _checkpoint(run, epoch, row, improved, resolved)
    if run.distributed is not None:
        run.writer.wait()
        run.distributed.barrier()  # every rank sees the same files before going on


def _checkpoint(
    run: _Run, epoch: int, row: dict[str, Any], improved: bool, resolved: dict[str, Any]
) -> None:
    """Hand the writer ``best.pt`` when the monitor improved and ``last.pt`` every
    ``checkpoint_every`` epochs (rank 0 only); it writes them on its thread when
    ``checkpoint_interval_s`` has passed and at the end (under DDP :func:`_record` then has
    every rank wait for the files being written)."""
    last_epoch = epoch == run.config.epochs or run.stopper.should_stop
    paths = [run.ckpt_dir / "best.pt"] if improved else []
    if epoch % run.config.checkpoint_every == 0 or last_epoch:
        paths.append(run.ckpt_dir / "last.pt")
    if paths and run.main:
        payload: dict[str, Any] = {
            "epoch": epoch,
            "model": run.model.state_dict(),
            "model_spec": _spec_or_none(run.model),
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict() if run.scheduler is not None else None,
            "scaler": run.scaler.state_dict() if run.scaler is not None else None,
            "rng": get_rng_state(),
            "early_stopping": run.stopper.state_dict(),
            "train_config": dataclasses.asdict(run.config),
            "resolved_config": resolved,
            "task": run.task,
            "metrics": row,
        }
        if run.window is not None:
            payload["average_window"] = run.window.state_dict()
        run.writer.submit(paths, payload, final=last_epoch)


def _resume(run: _Run) -> int:
    """Restore every piece of training state from ``last.pt``; return its epoch (0: none)."""
    path = run.ckpt_dir / "last.pt"
    if not path.is_file():
        return 0
    ckpt = load_checkpoint(path, map_location="cpu")  # RNG states stay CPU tensors
    check_resume_settings(ckpt.get("train_config") or {}, run.config, str(path.parent.parent.name),
                          (ckpt.get("model_spec"), _spec_or_none(run.model)))  # fmt: skip
    run.model.load_state_dict(ckpt["model"])
    run.optimizer.load_state_dict(ckpt["optimizer"])
    if run.scheduler is not None:
        run.scheduler.load_state_dict(ckpt["scheduler"])
    if run.scaler is not None and ckpt["scaler"] is not None:
        run.scaler.load_state_dict(ckpt["scaler"])
    set_rng_state(ckpt["rng"])
    run.stopper.load_state_dict(ckpt["early_stopping"])
    if run.window is not None and "average_window" in ckpt:
        run.window.load_state_dict(ckpt["average_window"])
    return int(ckpt["epoch"])


def _average(
    run: _Run,
    train_ds: Dataset[dict[str, Any]],
    val_ds: Dataset[dict[str, Any]] | None,
    resolved: dict[str, Any],
) -> dict[str, Any] | None:
    """Checkpoint averaging (``average_epochs``): the window's weights averaged into the model,
    batch-norm statistics recomputed on one pass of the training data (the last epoch's draws),
    validated, written as ``best.pt`` (the best epoch to ``best_single.pt``), ``average.json``."""
    if run.window is None or not run.window.window():
        return None
    window = run.window.window()
    last = window[-1][0]
    _set_epoch(train_ds, last)
    lone = run.drop_last and len(train_ds) % run.config.batch_size == 1  # type: ignore[arg-type]
    loader = epoch_loader(train_ds, run.config, shuffle=False, epoch=last, device=run.device,
                          drop_last=lone)  # fmt: skip
    images = (batch["image"].to(run.device).float() for batch in loader)
    count = average_weights(run.model, [state for _, state in window], images)
    record: dict[str, Any] = {
        "epochs": [e for e, _ in window], "anchor": run.config.average_anchor,
        "count": count, "batch_norm_recomputed": has_batch_norm(run.model),
        "best_single_epoch": run.stopper.best_epoch,
        **short_window(run.window, run.config.epochs, run.monitor, say=run.main),
    }  # fmt: skip
    if val_ds is not None:
        record["metrics"] = _validate(run, val_ds, last)
    if run.main:
        run.writer.flush()
        best = run.ckpt_dir / "best.pt"
        if best.is_file() and not load_checkpoint(best).get("averaged"):  # not a re-run's
            best.replace(run.ckpt_dir / "best_single.pt")
        run.writer.submit([best], {
            "epoch": last, "model": run.model.state_dict(), "model_spec": _spec_or_none(run.model),
            "train_config": dataclasses.asdict(run.config), "resolved_config": resolved,
            "task": run.task, "metrics": record.get("metrics", {}), "averaged": record,
        }, final=True)  # fmt: skip
        run.writer.wait()  # best.pt on disk before average.json says it is averaged
        atomic_write_text(run.run_dir / "average.json", json.dumps(record, indent=2) + "\n")
    if run.distributed is not None:
        run.distributed.barrier()
    return record


def _set_epoch(ds: Dataset[dict[str, Any]], epoch: int) -> None:
    """Tell ``ds`` (or the dataset a ``Subset`` wraps) the epoch, so its random stages draw
    new parameters every epoch (the same for the same seed); loader workers copy it after."""
    node: Any = ds
    while node is not None:
        if hasattr(node, "set_epoch"):
            node.set_epoch(epoch)
            return
        node = getattr(node, "dataset", None)


def _spec_or_none(model: nn.Module) -> dict[str, Any] | None:
    from models import model_spec

    try:
        return model_spec(model)
    except ConfigError:
        return None
