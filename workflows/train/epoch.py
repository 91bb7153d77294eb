"""One epoch of training and one pass of validation, for :func:`workflows.train.loop.train`.

Batches are dicts ``{"image": (B, C, ...) float, "label": (B,) int64 | "mask": (B, *spatial)
int64}``; the shuffle order of epoch ``e`` depends on ``(seed, e)`` only.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, IterableDataset

from pipeline.data import collate_items
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from pipeline.metrics import ConfusionAccumulator
from workflows.train.average import frozen_norms
from workflows.train.config import TrainConfig
from workflows.train.targets import check_targets

if TYPE_CHECKING:
    from workflows.train.ddp import DistributedContext

#: A mask voxel that is padding, not image (see :func:`evaluate`).
PADDED = -1


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[dict[str, Any]],
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    device: torch.device,
    amp_dtype: torch.dtype | None,
    scaler: torch.amp.GradScaler | None,
) -> dict[str, float]:
    """One pass over ``loader``; returns ``train_loss`` (sample-weighted mean) and timings."""
    model.train()
    for name in frozen_norms(model):  # frozen: no running-statistics updates either
        model.get_submodule(name).eval()
    losses: list[torch.Tensor] = []  # summed once at the end: no device sync per step
    sizes: list[int] = []
    data_s = 0.0
    weights = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    tick = time.perf_counter()
    for batch in _progress(loader, config.progress, "train"):
        image, target = _to_device(batch, device)
        data_s += time.perf_counter() - tick
        with _autocast(device, amp_dtype):
            logits = model(image)  # (B, K) or (B, K, *spatial)
        check_targets(batch, logits.shape, class_weights=config.class_weights)
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
        losses.append(loss.detach())
        sizes.append(len(image))
        tick = time.perf_counter()
    count = sum(sizes)
    total = 0.0
    if losses:
        batch_sizes = torch.tensor(sizes, dtype=torch.float64)
        total = float(torch.stack(losses).double().cpu() @ batch_sizes)
    return {"train_loss": total / max(count, 1), "data_s": round(data_s, 4), "samples": count}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[dict[str, Any]],
    loss_fn: nn.Module,
    task: str,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    distributed: DistributedContext | None = None,
) -> dict[str, float]:
    """Validation loss and metrics: ``val_accuracy`` (+ ``val_balanced_accuracy``) for
    classification, ``val_dice`` (mean foreground Dice, pooled over the set) and pixel
    ``val_accuracy`` for segmentation. With ``distributed``, each rank evaluates its shard
    and the loss sums and confusion counts are summed over ranks (never the averages).

    Mask voxels holding :data:`PADDED` are padding (``crop_or_pad``/``fit_depth``; marked by
    :class:`workflows.run.padding.PaddingMarked`): background in truth and prediction, as
    the run's evaluation scores them; ``val_loss`` takes them as background, as training does.
    """
    model.eval()
    acc: ConfusionAccumulator | None = None
    sums = [0.0] * 4  # per loss term (at most 2): sum of (batch mean x its weight), the weights
    for batch in loader:
        image, target = _to_device(batch, device)
        padded = target == PADDED  # (B, *spatial) for masks
        target = target.clamp(min=0)
        with _autocast(device, amp_dtype):
            logits = model(image)
        check_targets(batch, logits.shape, padded=PADDED)
        _add_terms(sums, loss_fn, logits, target)
        if acc is None:
            acc = ConfusionAccumulator(logits.shape[1], include_background=task != "segmentation")
        pred = logits.argmax(dim=1).masked_fill(padded, 0)
        acc.update(target.cpu().numpy(), pred.cpu().numpy())
    if distributed is not None:
        sums = distributed.sum(sums)  # one length on every rank, with batches or not
        acc = distributed.reduce_accumulator(acc, acc.num_classes if acc else 0,
                                             include_background=task != "segmentation")  # fmt: skip
    out = {"val_loss": sum((t / w for t, w in zip(sums[::2], sums[1::2]) if w), 0.0)}
    if acc is not None:
        metrics = acc.compute()
        out["val_accuracy"] = float(metrics["accuracy"])
        if task == "segmentation":
            out["val_dice"] = float(metrics["dice_macro"])
        else:
            out["val_balanced_accuracy"] = float(metrics["balanced_accuracy"])
    return out


def _add_terms(
    sums: list[float], loss_fn: nn.Module, logits: torch.Tensor, target: torch.Tensor
) -> None:
    """Add one batch's loss terms to ``sums`` (``[term 1 x weight, weight, term 2 ...]``).

    ``val_loss`` is then each term's mean over the whole validation set, its sum over terms:
    the cross-entropy with class weights ``sum_i w[y_i] ce_i / sum_i w[y_i]``, as PyTorch
    defines it over one batch. Until 2026-12-04 it was the mean of the batches' losses weighed
    by their sizes, which with class weights changed with the batch size. A loss module
    without :meth:`models.losses.TrainingLoss.terms`: its batch means, weighed by batch size.
    """
    terms = getattr(loss_fn, "terms", None)
    found = terms(logits, target) if terms else [(float(loss_fn(logits, target)), len(logits))]
    for j, (mean, weight) in enumerate(found):
        sums[2 * j] += mean * weight
        sums[2 * j + 1] += weight


log = logging.getLogger("radpipe")


def training_loss_monitor(early_stopping: int | None) -> str:
    """The monitor without validation data (``"train_loss"``), said once: ``best.pt`` (and
    early stopping, when set) then follow the training loss, which keeps falling as a model
    overfits, so ``best.pt`` is nearly always the last epoch."""
    log.warning(
        "no validation data: %s the training loss, which cannot show overfitting; a "
        "validation split (split.val > 0) chooses the model on held-out patients.",
        "best.pt and early stopping follow" if early_stopping else "best.pt follows",
    )
    return "train_loss"


def say_if_never_improved(monitor: str, best_epoch: int, history: list[dict[str, Any]]) -> None:
    """Warn when the monitored metric was never a number (NaN in every epoch, e.g.
    ``val_dice`` of a validation split without any foreground): no ``best.pt`` exists and the
    run's model is ``last.pt``, which early stopping may have ended early."""
    if history and not best_epoch:
        log.warning(
            "train.monitor %s was NaN in every epoch (%d): no best.pt was written and the run's "
            "model is last.pt; a validation split without any foreground gives val_dice NaN: "
            "monitor val_loss, or add cases with foreground to the validation split.",
            monitor, len(history),
        )  # fmt: skip


class TrainingDiverged(RadpipeError):
    """The loss or the weights became NaN or infinite; the run stopped before that epoch
    could be written to any checkpoint."""


def check_finite(
    model: nn.Module, epoch: int, row: dict[str, Any], *, losses: bool, best_epoch: int
) -> None:
    """Raise :class:`TrainingDiverged` when a weight is NaN/inf or (``losses``; off for fp16
    with a GradScaler, which skips such steps by design) ``train_loss`` or ``val_loss`` in
    ``row`` is not finite, so that a diverged epoch never becomes ``best.pt`` or ``last.pt``."""
    bad = _non_finite_weights(model)
    keys = ("train_loss", "val_loss") if losses else ()
    found = [f"{k} {row[k]}" for k in keys if k in row and not math.isfinite(row[k])]
    if bad:
        found.append(f"NaN/inf in {len(bad)} weight tensors ({bad[0]}, ...)")
    if not found:
        return
    kept = f"best.pt is epoch {best_epoch}" if best_epoch else "no best.pt was written"
    raise TrainingDiverged(
        f"Training diverged at epoch {epoch}: {', '.join(found)}. The run stopped and no "
        f"checkpoint holds epoch {epoch} ({kept}). Lower train.lr, set train.grad_clip, or "
        "look for NaN/inf in the inputs (a stage dividing by a zero range)."
    )


@torch.no_grad()
def _non_finite_weights(model: nn.Module) -> list[str]:
    """Names of the weight tensors holding NaN or infinity.

    Screened by one sum per tensor (a NaN or an infinity makes the sum non-finite), read
    back in one transfer; only a non-finite sum (or one that overflowed) is checked element
    by element. ``isfinite(p).all()`` on every tensor (3 passes and a device sync each)
    was 40 % of ``train()``'s per-epoch overhead over a bare loop on a small MLP (callgrind).
    """
    named = [(n, p) for n, p in model.named_parameters() if p.numel()]
    if not named:
        return []
    sums = torch.stack([p.detach().sum().float().reshape(()) for _, p in named])
    suspects = (~torch.isfinite(sums)).nonzero().flatten().tolist()
    return [named[i][0] for i in suspects if not bool(torch.isfinite(named[i][1]).all())]


def epoch_loader(
    ds: Dataset[dict[str, Any]],
    config: TrainConfig,
    *,
    shuffle: bool,
    epoch: int,
    device: torch.device,
    distributed: DistributedContext | None = None,
    drop_last: bool = False,
) -> Iterable[dict[str, Any]]:
    """The batches of one epoch; their order depends on ``(seed, epoch)`` only, so resuming
    needs no loader state.

    With ``num_workers`` 0 (and no DDP; a map-style dataset) an :class:`InProcessBatches`,
    else a ``DataLoader``; both deal out the same batches in the same order. ``drop_last``:
    without the last batch when it is short (see :mod:`workflows.train.lone_batch`).
    """
    if distributed is not None:  # the same order, dealt out over the ranks
        return distributed.loader(ds, config.batch_size, shuffle=shuffle,
                                  seed=config.seed * 1_000_003, epoch=epoch,
                                  num_workers=config.num_workers, drop_last=drop_last)  # fmt: skip
    seed = config.seed * 1_000_003 + epoch
    if config.num_workers == 0 and not isinstance(ds, IterableDataset):
        return InProcessBatches(ds, config.batch_size, shuffle=shuffle, seed=seed,
                                pin_memory=device.type == "cuda", drop_last=drop_last)  # fmt: skip
    return DataLoader(
        ds,
        batch_size=config.batch_size,
        drop_last=drop_last,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
        collate_fn=collate_items,  # batches a dataset fetched whole pass through as they are
    )


class InProcessBatches:
    """The batches a single-process ``DataLoader(ds, batch_size, shuffle, generator=
    torch.Generator().manual_seed(seed), collate_fn=collate_items)`` yields, in the same
    order, without its per-batch machinery (sampler generators, profiler ranges: about
    50 us a batch, 3% of an epoch of a small MLP on 2 cores).

    The order: the DataLoader draws one int64 from the generator (its worker base seed)
    before its ``RandomSampler`` draws ``randperm(len(ds))``; so does this. Items come from
    ``ds.__getitems__(indices)`` when the dataset has it, else ``[ds[i] for i in indices]``,
    and go through :func:`~pipeline.data.collate_items`; tensors are pinned when
    ``pin_memory`` (CUDA).
    """

    def __init__(
        self, ds: Dataset[dict[str, Any]], batch_size: int, *, shuffle: bool, seed: int,
        pin_memory: bool = False, drop_last: bool = False,
    ) -> None:  # fmt: skip
        self.ds, self.batch_size, self.shuffle, self.seed = ds, batch_size, shuffle, seed
        self.pin_memory, self.drop_last = pin_memory, drop_last

    def __len__(self) -> int:
        n = len(self.ds)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        n = len(self.ds)  # type: ignore[arg-type]
        if self.shuffle:
            gen = torch.Generator().manual_seed(self.seed)
            torch.empty((), dtype=torch.int64).random_(generator=gen)  # the loader's base seed
            order: list[int] = torch.randperm(n, generator=gen).tolist()
        else:
            order = list(range(n))
        fetch = getattr(self.ds, "__getitems__", None)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start : start + self.batch_size]
            items = fetch(index) if fetch else [self.ds[i] for i in index]
            batch = collate_items(items)
            yield _pinned(batch) if self.pin_memory else batch


def _pinned(value: Any) -> Any:
    """``value`` with every tensor in page-locked memory, through dicts, lists and tuples
    (as the DataLoader's ``pin_memory`` does)."""
    if isinstance(value, torch.Tensor):
        return value.pin_memory()
    if isinstance(value, dict):
        return {k: _pinned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pinned(v) for v in value]
    if isinstance(value, tuple):
        items = [_pinned(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value


def summed_train_loss(distributed: DistributedContext, row: dict[str, Any]) -> dict[str, Any]:
    """The sample-weighted mean training loss over all ranks (padding items included)."""
    total, count = distributed.sum([row["train_loss"] * row["samples"], row["samples"]])
    return {"train_loss": total / max(count, 1), "samples": int(count)}


# -- helpers ----------------------------------------------------------------------------
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


def _progress(loader: Iterable[dict[str, Any]], enabled: bool, label: str) -> Iterable[Any]:
    if not (enabled and sys.stderr.isatty()):
        return loader
    return _bar(loader, label)


def _bar(loader: Iterable[dict[str, Any]], label: str) -> Iterator[Any]:
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        yield from bar.track(loader, description=label, total=len(loader))  # type: ignore[arg-type]


def restart_log(path: Path, start: int, resume: bool = True) -> list[dict[str, Any]]:
    """Keep the log rows of epochs up to ``start`` (a resumed run redoes the later ones), and
    say which epochs are trained again: those a stopped run (killed outright) ran after its
    last checkpoint, all of them when none was written yet (until 2026-12-02 a resume went
    back to epoch 1 without a word). A fresh run (not ``resume``) replaces an earlier run's
    log without a word, as it does its checkpoints (it said that the earlier epochs had no
    checkpoint to continue from)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill mid-write: not an epoch
            continue
    kept = [r for r in rows if r["epoch"] <= start]
    if resume and len(kept) < len(rows):
        end, name = max(r["epoch"] for r in rows), path.parent.name
        said = (f"epochs {start + 1}-{end} of the stopped run came after its last checkpoint "
                f"(last.pt, epoch {start}); they are trained again" if start else
                f"log.jsonl held epochs 1-{end} of an earlier training with no checkpoint to "
                "continue from: training starts again from epoch 1")  # fmt: skip
        log.warning("%s: %s (checkpoints are written at most every "
                    "train.checkpoint_interval_s seconds)", name, said)  # fmt: skip
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))
    return kept


def append_log(path: Path, row: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(row) + "\n")
