"""Distributed data-parallel training with ``torch.distributed`` (launched by ``torchrun``).

One process per device; gloo on CPU, NCCL on GPUs. :class:`DistributedContext` is what the
training loop needs to know: the rank, a sampler that shards each epoch, DDP wrapping, sums
across ranks, and who writes files (rank 0 only).

Equivalence with one process: ``train.batch_size`` is the *global* batch; each of the ``W``
ranks takes ``batch_size / W`` items per step. :class:`ShardSampler` draws the same
permutation as the single-process loader and deals it out round-robin, so the items of step
``k`` over all ranks are exactly the items of the single-process batch ``k``; DDP averages
the ranks' gradients, which equals the gradient of the global batch mean (every rank's
batch has the same size). Final weights then match a single-process run up to float
rounding in the gradient all-reduce (Li et al., "PyTorch Distributed: Experiences on
Accelerating Data Parallel Training", VLDB 2020).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from pipeline.data import collate_items
from pipeline.errors import ConfigError
from pipeline.metrics import ConfusionAccumulator, torch_all_reduce


def get_rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def get_world_size() -> int:
    """How many processes train together (1 without a process group)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """True on rank 0, the only rank that writes files."""
    return get_rank() == 0


def barrier() -> None:
    """Wait for every rank (a no-op without a process group)."""
    if get_world_size() > 1:
        dist.barrier()


@dataclass(frozen=True)
class DistributedContext:
    """The rank's view of a DDP run (see :func:`init_distributed`)."""

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        barrier()

    def local_batch(self, batch_size: int) -> int:
        """The per-rank share of the global ``batch_size``; it must divide evenly."""
        if batch_size % self.world_size:
            raise ConfigError(
                f"The 'train.batch_size' setting ({batch_size}) is the global batch and must "
                f"be a multiple of the number of processes ({self.world_size})."
            )
        return batch_size // self.world_size

    def wrap(self, model: nn.Module) -> nn.Module:
        """``DistributedDataParallel(model)``; the caller keeps ``model`` for state dicts."""
        from torch.nn.parallel import DistributedDataParallel

        if self.device.type == "cuda":
            return DistributedDataParallel(model, device_ids=[self.device.index])
        return DistributedDataParallel(model)

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums of ``values`` over all ranks (float64)."""
        tensor = torch.tensor(list(values), dtype=torch.float64)
        if self.backend == "nccl":
            tensor = tensor.to(self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return [float(v) for v in tensor.cpu()]

    def reduce_accumulator(
        self, acc: ConfusionAccumulator | None, num_classes: int, **kwargs: Any
    ) -> ConfusionAccumulator:
        """Sum the confusion counts of every rank (counts, never averages of metrics).

        A rank that saw no batch (``acc is None``) contributes zeros; ``num_classes`` is the
        largest over the ranks, so every rank ends with the same accumulator.
        """
        k = int(self.max(num_classes))
        if acc is None:
            acc = ConfusionAccumulator(k, **kwargs)
        return acc.reduce(torch_all_reduce)

    def max(self, value: float) -> float:
        tensor = torch.tensor([value], dtype=torch.float64)
        if self.backend == "nccl":
            tensor = tensor.to(self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return float(tensor.item())

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (picklable, small: a path, a dict of settings)."""
        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def loader(
        self,
        ds: Dataset[dict[str, Any]],
        batch_size: int,
        *,
        shuffle: bool,
        seed: int,
        epoch: int,
        num_workers: int = 0,
        drop_last: bool = False,
    ) -> DataLoader[dict[str, Any]]:
        """This rank's :class:`DataLoader` over its shard; ``batch_size`` is the global batch.

        Training shards pad to equal length (as ``DistributedSampler`` does); evaluation
        shards (``shuffle=False``) never repeat an item and keep each patient's items on one
        rank, so per-case figures stay whole.
        """
        sampler = ShardSampler(ds, num_replicas=self.world_size, rank=self.rank,
                               shuffle=shuffle, seed=seed,
                               groups=None if shuffle else groups_of(ds))  # fmt: skip
        sampler.set_epoch(epoch)
        return DataLoader(
            ds,
            batch_size=self.local_batch(batch_size),
            drop_last=drop_last,
            sampler=sampler,
            num_workers=num_workers,
            pin_memory=self.device.type == "cuda",
            collate_fn=collate_items,
        )


class ShardSampler(DistributedSampler[int]):
    """A ``DistributedSampler`` whose epoch permutation is the single-process loader's.

    With ``shuffle=True`` the permutation is the one ``DataLoader(shuffle=True)`` draws from
    a generator seeded ``seed + epoch`` (:func:`single_process_order`), padded by repeating
    its start to a multiple of the number of replicas and dealt out round-robin.

    With ``shuffle=False`` and ``groups`` (a group id per item, e.g. the patient key), whole
    groups go to the least-loaded rank (largest first) and nothing is padded; without
    groups, items are dealt round-robin, again without padding.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        *,
        num_replicas: int,
        rank: int,
        shuffle: bool,
        seed: int,
        groups: Sequence[str] | None = None,
    ) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle,
                         seed=seed, drop_last=False)  # fmt: skip
        self.groups = None if groups is None else list(groups)
        self.indices = self._indices()

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self.indices = self._indices()

    def _indices(self) -> list[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        if not self.shuffle:
            if self.groups is not None:
                return shard_groups(self.groups, self.num_replicas)[self.rank]
            return list(range(n))[self.rank :: self.num_replicas]
        order = single_process_order(n, self.seed + self.epoch)
        total = math.ceil(n / self.num_replicas) * self.num_replicas
        while len(order) < total:
            order += order[: total - len(order)]
        return order[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def single_process_order(n: int, seed: int) -> list[int]:
    """The item order of ``DataLoader(ds, shuffle=True, generator=manual_seed(seed))``.

    Drawn through a ``DataLoader`` itself: besides the permutation (``RandomSampler``), the
    loader's iterator takes a base seed from the same generator first, so calling
    ``RandomSampler`` directly would give another order.
    """
    gen = torch.Generator().manual_seed(seed)
    items = torch.arange(n)
    loader: DataLoader[torch.Tensor] = DataLoader(
        items,  # type: ignore[arg-type]  # a tensor is a map-style dataset
        batch_size=4096,
        shuffle=True,
        generator=gen,
    )
    return [int(i) for batch in loader for i in batch.tolist()]


def shard_groups(groups: Sequence[str], parts: int) -> list[list[int]]:
    """Item indices per part, whole groups together, largest group first to the least-loaded
    part (ties: lowest part); indices ascend within a part.

    Examples
    --------
    >>> shard_groups(["a", "a", "b", "c", "c", "c"], 2)
    [[3, 4, 5], [0, 1, 2]]
    """
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    load = [0] * parts
    out: list[list[int]] = [[] for _ in range(parts)]
    for g in sorted(members, key=lambda g: (-len(members[g]), g)):
        part = min(range(parts), key=lambda p: (load[p], p))
        out[part] += members[g]
        load[part] += len(members[g])
    return [sorted(p) for p in out]


def groups_of(ds: Any) -> list[str] | None:
    """The patient key of every item of a :class:`pipeline.data.ManifestDataset`, else None."""
    items = getattr(ds, "items", None)
    if not isinstance(items, list) or not items:
        return None
    try:
        return [str(rows[0]["patient_key"]) for rows in items]
    except (KeyError, IndexError, TypeError):
        return None


def init_distributed(backend: str = "auto", timeout_s: float = 600.0) -> DistributedContext:
    """Join the process group ``torchrun`` describes (``RANK``, ``WORLD_SIZE``, ...).

    ``backend="auto"`` picks NCCL when CUDA is available, else gloo. On GPUs each process
    uses ``cuda:LOCAL_RANK``.
    """
    missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
               if k not in os.environ]  # fmt: skip
    if missing:
        raise ConfigError(
            f"Distributed training needs the environment torchrun sets ({', '.join(missing)} "
            "missing): launch with "
            "'torchrun --nproc-per-node N -m workflows.commands.train_ddp ...'."
        )
    if backend == "auto":
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return context(backend, device)


def context(backend: str | None = None, device: torch.device | None = None) -> DistributedContext:
    """The :class:`DistributedContext` of an initialised process group."""
    if not dist.is_initialized():
        raise RuntimeError("torch.distributed is not initialised.")
    backend = backend or str(dist.get_backend())
    local_rank = int(os.environ.get("LOCAL_RANK", str(dist.get_rank())))
    if device is None:
        device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
    return DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, backend,
                              device)  # fmt: skip


def destroy_distributed() -> None:
    """Leave the process group (safe to call twice)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


__all__ = [
    "DistributedContext", "ShardSampler", "barrier", "context", "destroy_distributed",
    "get_rank", "get_world_size", "groups_of", "init_distributed", "is_main_process",
    "shard_groups",
]  # fmt: skip
