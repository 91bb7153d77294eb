"""PaddingMarked: the validation items training scores, padding marked -1 in their masks,
whether the loader fetches items one by one or whole batches (ItemBatch)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from pipeline.data import ItemBatch
from workflows.run.padding import PaddingMarked
from workflows.train.epoch import PADDED


class _Items:
    """Two items of mask (3, 4): item 0 all 1, item 1 all 2."""

    def __init__(self) -> None:
        self.items = ["patient-a", "patient-b"]

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"image": torch.zeros(1, 3, 4), "mask": torch.full((3, 4), index + 1),
                "id": str(index)}  # fmt: skip


class _Batched(_Items):
    def __getitems__(self, indices: list[int]) -> ItemBatch:
        items = [self[i] for i in indices]
        return ItemBatch({"image": torch.stack([i["image"] for i in items]),
                          "mask": torch.stack([i["mask"] for i in items]),
                          "id": [i["id"] for i in items]})  # fmt: skip


BOX = np.zeros((3, 4), dtype=bool)
BOX[1:3, 1:3] = True  # rows 1-2, columns 1-2 hold the image
RING = np.ones((3, 4), dtype=bool)
RING[1, 1] = False  # not a box: kept as an array
EXPECTED_BOX = [[-1, -1, -1, -1], [-1, 1, 1, -1], [-1, 1, 1, -1]]
EXPECTED_RING = [[2, 2, 2, 2], [2, -1, 2, 2], [2, 2, 2, 2]]


@pytest.mark.parametrize("dataset", [_Items(), _Batched()], ids=["items", "batch"])
def test_padding_is_marked(dataset: _Items) -> None:
    marked = PaddingMarked(dataset, [BOX, RING])
    assert PADDED == -1
    assert marked.items == ["patient-a", "patient-b"]  # DDP's evaluation shards by patient
    assert marked[0]["mask"].tolist() == EXPECTED_BOX
    assert marked[1]["mask"].tolist() == EXPECTED_RING
    got = marked.__getitems__([1, 0])
    masks = got.columns["mask"] if isinstance(got, ItemBatch) else [i["mask"] for i in got]
    assert [m.tolist() for m in masks] == [EXPECTED_RING, EXPECTED_BOX]
    assert dataset[0]["mask"].tolist() == [[1] * 4] * 3  # the dataset's own items untouched


def test_nothing_padded_is_unchanged() -> None:
    assert PaddingMarked(_Items(), [None, None])[1]["mask"].tolist() == [[2] * 4] * 3
