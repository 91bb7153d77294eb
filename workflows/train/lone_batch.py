"""A last training batch of one sample, which a batch-norm layer cannot train on.

``BatchNorm1d`` on ``(B, C)`` features (and any batch norm left with one value per channel)
raises ``Expected more than 1 value per channel when training`` for a batch of one: a
training split of 9 with ``batch_size`` 8 stopped the run in its first epoch with torch's
traceback (and a ``--resume`` hint that could not help, a resume keeping the batch size).
:func:`drop_lone_batch` finds that case before training, by one forward pass of a copy of
the model on one item (the random states forked and restored), and then drops that last
batch from every epoch, saying so; a batch size of 1 with such a model is refused.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.data import Dataset

from pipeline.errors import ConfigError
from workflows.train.average import frozen_norms
from workflows.train.config import TrainConfig

if TYPE_CHECKING:
    from workflows.train.ddp import DistributedContext

__all__ = ["drop_lone_batch", "fails_on_one_sample"]

log = logging.getLogger("radpipe")

_TORCH_SAYS = "Expected more than 1 value per channel"


def fails_on_one_sample(model: nn.Module, ds: Dataset[dict[str, Any]]) -> bool:
    """Whether ``model`` in training mode refuses a batch of one item of ``ds`` (batch norm
    with one value per channel). Runs a copy; the model and the random states are unchanged."""
    probe = copy.deepcopy(model).train()
    for name in frozen_norms(probe):
        probe.get_submodule(name).eval()
    device = next((p.device for p in probe.parameters()), torch.device("cpu"))
    image = ds[0]["image"][None].to(device).float()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        try:
            with torch.no_grad():
                probe(image)
        except ValueError as err:
            if _TORCH_SAYS in str(err):
                return True
            raise
    return False


def drop_lone_batch(
    model: nn.Module,
    ds: Dataset[dict[str, Any]],
    config: TrainConfig,
    distributed: DistributedContext | None = None,
) -> bool:
    """Whether every epoch must drop its last batch: it holds one sample (per process) and
    the model cannot train on one.

    Raises
    ------
    ConfigError
        Every batch holds one sample (``batch_size`` 1, or one sample per process).
    """
    n, batch = len(ds), config.batch_size  # type: ignore[arg-type]
    if distributed is not None:  # each rank's padded shard, and its share of the batch
        n, batch = math.ceil(n / distributed.world_size), distributed.local_batch(batch)
    if n == 0 or (n % batch != 1 and batch != 1) or not fails_on_one_sample(model, ds):
        return False
    if batch == 1 or n == 1:
        raise ConfigError(
            f"train.batch_size {config.batch_size} gives batches of one sample per process, and "
            "the model's batch norm cannot train on one sample (torch: "
            f"'{_TORCH_SAYS} when training'): use a larger batch_size, or a model "
            "without batch norm (model.batch_norm: false)."
        )
    log.warning(
        "train.batch_size %d leaves the last batch of each epoch with 1 of the %d training "
        "samples%s, and the model's batch norm cannot train on one sample (torch: '%s'): that "
        "batch is left out of every epoch (a different sample each epoch, the order being "
        "shuffled; log.jsonl's samples counts the rest); a batch size that leaves no single "
        "sample uses them all", config.batch_size, len(ds),  # type: ignore[arg-type]
        " per process" if distributed is not None else "", _TORCH_SAYS,
    )  # fmt: skip
    return True
