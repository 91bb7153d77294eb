"""The in-process batches of ``num_workers=0`` are the batches a DataLoader would deal out,
in the same order for the same seed: a run's result must not depend on which one served it."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from pipeline.data import ItemBatch, collate_items
from workflows.train.epoch import InProcessBatches, epoch_loader
from workflows.train.loop import TrainConfig


class _Items(Dataset[dict[str, Any]]):
    """Items fetched one at a time (DataLoader collates them with default_collate)."""

    def __init__(self, n: int) -> None:
        self.x = torch.arange(n * 4, dtype=torch.float32).reshape(n, 1, 2, 2)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.x[i], "label": torch.tensor(i % 3), "id": f"item{i}"}


class _Whole(_Items):
    """Items fetched a batch at a time."""

    def __getitems__(self, index: list[int]) -> ItemBatch:
        return ItemBatch({"image": self.x[torch.as_tensor(index)],
                          "label": torch.as_tensor(index) % 3,
                          "id": [f"item{i}" for i in index]})  # fmt: skip


def _loader_batches(ds: Dataset[dict[str, Any]], batch: int, shuffle: bool, seed: int) -> list:
    loader = DataLoader(ds, batch_size=batch, shuffle=shuffle, collate_fn=collate_items,
                        generator=torch.Generator().manual_seed(seed))  # fmt: skip
    return list(loader)


@pytest.mark.parametrize("kind", [_Items, _Whole])
@pytest.mark.parametrize("shuffle", [True, False])
def test_same_batches_as_a_dataloader(kind: type[_Items], shuffle: bool) -> None:
    for n, batch, seed in ((23, 5, 0), (20, 4, 7), (3, 8, 11)):
        ds = kind(n)
        want = _loader_batches(ds, batch, shuffle, seed)
        got = list(InProcessBatches(ds, batch, shuffle=shuffle, seed=seed))
        assert len(got) == len(want) == len(InProcessBatches(ds, batch, shuffle=shuffle, seed=seed))
        for a, b in zip(got, want):
            assert a["id"] == b["id"]
            assert torch.equal(a["image"], b["image"]) and torch.equal(a["label"], b["label"])
    ids = [i for b in InProcessBatches(_Whole(23), 5, shuffle=True, seed=0) for i in b["id"]]
    assert sorted(ids) == sorted(f"item{i}" for i in range(23))
    if shuffle:
        assert ids != [f"item{i}" for i in range(23)]


def test_epoch_loader_serves_subsets_and_workers_the_same_order() -> None:
    ds = Subset(_Whole(30), list(range(3, 30, 2)))
    config = TrainConfig(batch_size=4, seed=5)
    cpu = torch.device("cpu")
    here = epoch_loader(ds, config, shuffle=True, epoch=3, device=cpu)
    assert isinstance(here, InProcessBatches)
    workers = epoch_loader(ds, TrainConfig(batch_size=4, seed=5, num_workers=1), shuffle=True,
                           epoch=3, device=cpu)  # fmt: skip
    assert isinstance(workers, DataLoader)
    assert [b["id"] for b in here] == [b["id"] for b in workers]
    other_epoch = epoch_loader(ds, config, shuffle=True, epoch=4, device=cpu)
    assert [b["id"] for b in here] != [b["id"] for b in other_epoch]


def test_iterable_datasets_go_to_a_dataloader() -> None:
    class Stream(torch.utils.data.IterableDataset[dict[str, Any]]):
        def __iter__(self) -> Any:
            return iter({"image": torch.full((1, 2, 2), float(i)), "label": torch.tensor(i % 2),
                         "id": str(i)} for i in range(5))  # fmt: skip

    loader = epoch_loader(Stream(), TrainConfig(batch_size=2), shuffle=False, epoch=1,
                          device=torch.device("cpu"))  # fmt: skip
    assert isinstance(loader, DataLoader)
    assert [b["id"] for b in loader] == [["0", "1"], ["2", "3"], ["4"]]


def test_pinning_reaches_nested_tensors(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the DataLoader's pin_memory: every tensor in dicts, lists and (named) tuples."""
    from collections import namedtuple

    from workflows.train.epoch import _pinned

    pinned: list[torch.Tensor] = []

    def pin(self: torch.Tensor) -> torch.Tensor:  # no CUDA here: record instead of pinning
        pinned.append(self)
        return self.clone()

    monkeypatch.setattr(torch.Tensor, "pin_memory", pin)
    Pair = namedtuple("Pair", "a b")
    a, b, c, d = (torch.ones(1) * i for i in range(4))
    out = _pinned({"image": a, "meta": {"x": [b, "s"], "p": Pair(c, 3)}, "t": (d,)})
    assert [id(t) for t in pinned] == [id(a), id(b), id(c), id(d)]
    assert isinstance(out["meta"]["p"], Pair) and out["meta"]["p"].b == 3
    assert out["meta"]["x"][1] == "s" and isinstance(out["t"], tuple)
    assert torch.equal(out["image"], a) and out["image"] is not a
