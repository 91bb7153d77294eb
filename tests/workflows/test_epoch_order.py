"""The shuffle order of a training epoch depends on the run's seed and the epoch: the same
pair gives the same order (exact resume), another epoch or another seed another order.
Mutations killed: the order seeded by the epoch alone (every run seed then shuffled alike),
and the order the same every epoch (the seed alone)."""

from __future__ import annotations

from typing import Any

import torch

from workflows.train.config import TrainConfig
from workflows.train.epoch import epoch_loader


class _Items(torch.utils.data.Dataset[dict[str, Any]]):
    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": torch.zeros(1), "label": torch.tensor(i)}


def _order(seed: int, epoch: int) -> list[int]:
    config = TrainConfig(seed=seed, batch_size=4)
    loader = epoch_loader(_Items(), config, shuffle=True, epoch=epoch, device=torch.device("cpu"))
    return [int(v) for batch in loader for v in batch["label"]]


def test_the_shuffle_order_follows_the_seed_and_the_epoch() -> None:
    first = _order(0, 1)
    assert sorted(first) == list(range(16))  # every item once
    assert _order(0, 1) == first  # the same seed and epoch: the same order (resume)
    assert _order(0, 2) != first  # another epoch: another order
    assert _order(1, 1) != first  # another run seed: another order
    assert _order(1, 2) != _order(0, 2)
