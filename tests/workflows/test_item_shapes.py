"""``train()`` and ``predict()`` on a plain list of dict items whose images differ in shape.

Until 2026-12-02 both stopped inside torch's ``default_collate`` with ``RuntimeError: stack
expects each tensor to be equal size, but got [1, 16, 16] at entry 0 and [1, 17, 16] at entry
1``, naming no item; radpipe's own datasets already said it in words (``BatchError``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models import build_model
from pipeline.data import collate_items
from pipeline.errors import BatchError
from workflows.train.infer import predict
from workflows.train.loop import TrainConfig, train

SAID = r"Items of one batch differ in image shape: \(1, 16, 16\) \(s0\), \(1, 17, 16\) \(s1\)"


def _items(sizes: list[int]) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"image": rng.normal(size=(1, h, 16)).astype(np.float32), "label": i % 2,
             "id": f"s{i}"} for i, h in enumerate(sizes)]  # fmt: skip


def test_predict_names_an_item_of_each_shape() -> None:
    model = build_model("cnn_classifier", num_classes=2)
    with pytest.raises(BatchError, match=SAID):
        predict(model, _items([16, 17, 16]), batch_size=4)


def test_train_names_an_item_of_each_shape(tmp_path) -> None:
    model = build_model("cnn_classifier", num_classes=2)
    config = TrainConfig(epochs=1, batch_size=4, progress=False)
    with pytest.raises(BatchError, match=r"Items of one batch differ in image shape: \(1, 1"):
        train(model, _items([16, 17] * 4), None, config, tmp_path / "run")


def test_items_of_one_shape_collate_as_torch_does() -> None:
    items = _items([16, 16])
    batch = collate_items(items)
    assert batch["image"].shape == (2, 1, 16, 16) and batch["id"] == ["s0", "s1"]
    assert torch.equal(batch["label"], torch.tensor([0, 1]))
    unnamed = [{"image": torch.zeros(1, 2, 2)}, {"image": torch.zeros(1, 3, 2)}]
    with pytest.raises(BatchError, match=r"\(1, 2, 2\) \(item 0\), \(1, 3, 2\) \(item 1\)"):
        collate_items(unnamed)
