"""The training loop, readable top to bottom: :func:`train`.

Datasets yield dicts ``{"image": (C, ...) float32, "label": int64 scalar | "mask": int64
(spatial), "id": str}``; the task follows from the first item (a ``mask`` means
segmentation). Each epoch: shuffled minibatches -> forward (under autocast on CUDA) ->
loss (+ L1) -> backward -> gradient clipping -> optimizer step; then validation metrics from
:class:`pipeline.metrics.ConfusionAccumulator`, the LR schedule, a line in ``log.jsonl``, and
checkpoints ``last.pt`` / ``best.pt`` (see :mod:`workflows.train.checkpoint`).

Resuming (``resume=True``) restores model, optimizer, scheduler, scaler, every RNG state and
the early-stopping state from ``checkpoints/last.pt``; the shuffling of epoch ``e`` depends
only on ``(seed, e)``, so a resumed CPU run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from pipeline.errors import ConfigError
from pipeline.io_atomic import atomic_write_text
from pipeline.metrics import ConfusionAccumulator
from workflows.train.checkpoint import (
    get_rng_state,
    load_checkpoint,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)
from workflows.train.config import TrainConfig
from workflows.train.optim import (
    EarlyStopping,
    amp_dtype_for,
    make_loss,
    make_optimizer,
    make_scheduler,
    pick_device,
)

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
        Continue from ``run_dir/checkpoints/last.pt`` when it exists.
    on_epoch_end
        Called with ``(epoch, log_row)`` after each epoch's checkpoint is written.
    distributed
        DDP under ``torchrun`` (:mod:`workflows.train.ddp`): each rank trains its
        shard of every epoch (``batch_size`` stays the global batch), losses and validation
        counts are summed over ranks, and only rank 0 writes checkpoints, the log and calls
        ``on_epoch_end``.
    """
    run_dir = Path(run_dir)
    ckpt_dir = run_dir / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    task = "segmentation" if "mask" in train_ds[0] else "classification"
    device = distributed.device if distributed else pick_device(config.device)
    main = distributed is None or distributed.is_main
    seed_everything(config.seed)
    model.to(device)
    net = distributed.wrap(model) if distributed else model  # forward/backward go through DDP
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config)
    amp_dtype = amp_dtype_for(device, config.amp)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    loss_fn = make_loss(task, config).to(device)
    monitor = config.monitor or (
        "train_loss"
        if val_ds is None
        else ("val_dice" if task == "segmentation" else "val_accuracy")
    )
    stopper = EarlyStopping(monitor, config.mode, config.early_stopping)
    start = 0
    if resume and (ckpt_dir / "last.pt").is_file():
        start = _restore(ckpt_dir / "last.pt", model, optimizer, scheduler, scaler, stopper)
    history = _restart_log(run_dir / "log.jsonl", start) if main else []

    for epoch in range(start + 1, config.epochs + 1):
        t0 = time.perf_counter()
        _set_epoch(train_ds, epoch)  # random stages draw from (seed, epoch, index)
        loader = _loader(train_ds, config, shuffle=True, epoch=epoch, device=device,
                         distributed=distributed)  # fmt: skip
        row: dict[str, Any] = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"]}
        row |= train_one_epoch(net, loader, loss_fn, optimizer, config, device, amp_dtype, scaler)
        if distributed is not None:
            row |= _summed_train_loss(distributed, row)
        if val_ds is not None:
            val_loader = _loader(val_ds, config, shuffle=False, epoch=epoch, device=device,
                                 distributed=distributed)  # fmt: skip
            row |= evaluate(model, val_loader, loss_fn, task, device, amp_dtype,
                            distributed=distributed)  # fmt: skip
        row["time_s"] = round(time.perf_counter() - t0, 4)
        if monitor not in row:
            raise ConfigError(
                f"The 'train.monitor' metric {monitor!r} is not one of {sorted(row)}."
            )
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(row[monitor] if stopper.mode == "min" else -row[monitor])
        elif scheduler is not None:
            scheduler.step()
        improved = stopper.update(epoch, row[monitor])
        if main:
            _append_log(run_dir / "log.jsonl", row)
        history.append(row)

        payload = {
            "epoch": epoch,
            "model": model.state_dict(),
            "model_spec": _spec_or_none(model),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": get_rng_state(),
            "early_stopping": stopper.state_dict(),
            "train_config": dataclasses.asdict(config),
            "resolved_config": resolved_config or {},
            "task": task,
            "metrics": row,
        }
        if improved and main:
            save_checkpoint(ckpt_dir / "best.pt", payload)
        last_epoch = epoch == config.epochs or stopper.should_stop
        if (epoch % config.checkpoint_every == 0 or last_epoch) and main:
            save_checkpoint(ckpt_dir / "last.pt", payload)
        if distributed is not None:
            distributed.barrier()  # every rank sees the same files before going on
        if on_epoch_end is not None and main:
            on_epoch_end(epoch, row)
        if stopper.should_stop:
            break

    return TrainResult(
        run_dir=run_dir,
        monitor=monitor,
        best_metric=stopper.best,
        best_epoch=stopper.best_epoch,
        epochs_run=history[-1]["epoch"] if history else 0,
        stopped_early=stopper.should_stop,
        device=str(device),
        history=history,
    )


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader[dict[str, Any]],
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    device: torch.device,
    amp_dtype: torch.dtype | None,
    scaler: torch.amp.GradScaler | None,
) -> dict[str, float]:
    """One pass over ``loader``; returns ``train_loss`` (sample-weighted mean) and timings."""
    model.train()
    total, count, data_s = 0.0, 0, 0.0
    weights = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    tick = time.perf_counter()
    for batch in _progress(loader, config.progress, "train"):
        image, target = _to_device(batch, device)
        data_s += time.perf_counter() - tick
        with _autocast(device, amp_dtype):
            logits = model(image)  # (B, K) or (B, K, *spatial)
        loss = loss_fn(logits, target)
        if config.l1 > 0:
            loss = loss + config.l1 * sum(w.abs().sum() for w in weights)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        else:
            loss.backward()
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        total += float(loss.detach()) * len(image)
        count += len(image)
        tick = time.perf_counter()
    return {"train_loss": total / max(count, 1), "data_s": round(data_s, 4), "samples": count}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: DataLoader[dict[str, Any]],
    loss_fn: nn.Module,
    task: str,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    distributed: DistributedContext | None = None,
) -> dict[str, float]:
    """Validation loss and metrics: ``val_accuracy`` (+ ``val_balanced_accuracy``) for
    classification, ``val_dice`` (mean foreground Dice, pooled over the set) and pixel
    ``val_accuracy`` for segmentation. With ``distributed``, each rank evaluates its shard
    and the loss sums and confusion counts are summed over ranks (never the averages)."""
    model.eval()
    acc: ConfusionAccumulator | None = None
    total, count = 0.0, 0
    for batch in loader:
        image, target = _to_device(batch, device)
        with _autocast(device, amp_dtype):
            logits = model(image)
        total += float(loss_fn(logits, target)) * len(image)
        count += len(image)
        if acc is None:
            acc = ConfusionAccumulator(logits.shape[1], include_background=task != "segmentation")
        acc.update(target.cpu().numpy(), logits.argmax(dim=1).cpu().numpy())
    if distributed is not None:
        total, summed = distributed.sum([total, count])
        count = int(summed)
        acc = distributed.reduce_accumulator(acc, acc.num_classes if acc else 0,
                                             include_background=task != "segmentation")  # fmt: skip
    out = {"val_loss": total / max(count, 1)}
    if acc is not None:
        metrics = acc.compute()
        out["val_accuracy"] = float(metrics["accuracy"])
        if task == "segmentation":
            out["val_dice"] = float(metrics["dice_macro"])
        else:
            out["val_balanced_accuracy"] = float(metrics["balanced_accuracy"])
    return out


# -- helpers ------------------------------------------------------------------------------
def _loader(
    ds: Dataset[dict[str, Any]],
    config: TrainConfig,
    *,
    shuffle: bool,
    epoch: int,
    device: torch.device,
    distributed: DistributedContext | None = None,
) -> DataLoader[dict[str, Any]]:
    # The shuffle order of epoch e depends on (seed, e) only, so resuming needs no loader state.
    if distributed is not None:  # the same order, dealt out over the ranks
        return distributed.loader(ds, config.batch_size, shuffle=shuffle,
                                  seed=config.seed * 1_000_003, epoch=epoch,
                                  num_workers=config.num_workers)  # fmt: skip
    gen = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    return DataLoader(
        ds,
        batch_size=config.batch_size,
        shuffle=shuffle,
        generator=gen,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )


def _set_epoch(ds: Dataset[dict[str, Any]], epoch: int) -> None:
    """Tell ``ds`` (or the dataset it wraps, e.g. a ``Subset``) which epoch is starting, so
    its random stages draw new parameters every epoch (the same ones for the same seed).
    Loader workers get a copy of the dataset when each epoch's loader starts, after this."""
    node: Any = ds
    while node is not None:
        if hasattr(node, "set_epoch"):
            node.set_epoch(epoch)
            return
        node = getattr(node, "dataset", None)


def _summed_train_loss(distributed: DistributedContext, row: dict[str, Any]) -> dict[str, Any]:
    """The sample-weighted mean training loss over all ranks (padding items included)."""
    total, count = distributed.sum([row["train_loss"] * row["samples"], row["samples"]])
    return {"train_loss": total / max(count, 1), "samples": int(count)}


def _to_device(batch: dict[str, Any], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    image = batch["image"].to(device, non_blocking=True).float()
    key = "mask" if "mask" in batch else "label"
    if key not in batch:
        raise ValueError(f"Training batches need a 'label' or a 'mask'; got keys {sorted(batch)}.")
    return image, batch[key].to(device, non_blocking=True).long()


def _autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager[Any]:
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _progress(loader: DataLoader[dict[str, Any]], enabled: bool, label: str) -> Iterator[Any]:
    if not (enabled and sys.stderr.isatty()):
        yield from loader
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        yield from bar.track(loader, description=label, total=len(loader))


def _restore(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler | None,
    stopper: EarlyStopping,
) -> int:
    """Load every piece of training state from ``path``; return its epoch."""
    # On CPU: RNG states must stay CPU tensors; load_state_dict moves the rest to the model.
    ckpt = load_checkpoint(path, map_location="cpu")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    if scaler is not None and ckpt["scaler"] is not None:
        scaler.load_state_dict(ckpt["scaler"])
    set_rng_state(ckpt["rng"])
    stopper.load_state_dict(ckpt["early_stopping"])
    return int(ckpt["epoch"])


def _spec_or_none(model: nn.Module) -> dict[str, Any] | None:
    from models.registry import model_spec

    try:
        return model_spec(model)
    except ConfigError:
        return None


def _restart_log(path: Path, start: int) -> list[dict[str, Any]]:
    """Keep the log rows of epochs up to ``start`` (a resumed run redoes the later ones)."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["epoch"] <= start]
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
    return rows


def _append_log(path: Path, row: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(row) + "\n")
