"""The training loop moves the dataset's epoch: augmentation differs across epochs and is
reproducible for the same seed (issue 13, item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Subset

import pipeline.stages  # noqa: F401  (registers the stages)
from models import build_model
from pipeline.data.base import SampleDataset
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from workflows.train.loop import TrainConfig, train


class _Recording(SampleDataset):
    """Four 8x8 images; records (epoch, index, applied parameters) of every item served."""

    def __init__(self, seed: int) -> None:
        pipe = Pipeline.from_config(
            [{"type": "random_flip", "p": 0.5, "axes": [-1, -2]},
             {"type": "random_gaussian_noise", "p": 1.0, "std": [0.0, 0.1]}]
        )  # fmt: skip
        super().__init__(pipeline=pipe, seed=seed)
        self.served: list[tuple[int, int, str]] = []

    def __len__(self) -> int:
        return 4

    def _load(self, index: int) -> Sample:
        image = np.arange(64, dtype=np.float32).reshape(1, 8, 8) / 64
        return Sample(image=image, label=index % 2, meta={"id": f"i{index}"})

    def item_key(self, index: int) -> str:
        return f"i{index}"

    def source_id(self) -> str:
        return "recording"

    def sample(self, index: int, epoch: int | None = None) -> Sample:
        out = super().sample(index, epoch)
        self.served.append((self.epoch, index, repr(out.meta["applied"])))
        return out


def _train(tmp: Path, seed: int, wrap: bool = False) -> list[tuple[int, int, str]]:
    ds = _Recording(seed)
    torch.manual_seed(0)
    model = build_model("mlp_classifier", in_features=64, num_classes=2, hidden=(4,))
    config = TrainConfig(epochs=3, batch_size=2, seed=seed, device="cpu", amp=False)
    train(model, Subset(ds, range(4)) if wrap else ds, None, config, tmp)
    return ds.served


@pytest.mark.parametrize("wrap", [False, True], ids=["dataset", "subset"])
def test_augmentation_differs_across_epochs_and_repeats_for_same_seed(
    tmp_path: Path, wrap: bool
) -> None:
    served = _train(tmp_path / "a", seed=3, wrap=wrap)
    # epoch 0: the loop's look at the first item; then the loop set epochs 1..3
    assert sorted({e for e, _, _ in served}) == [0, 1, 2, 3]
    per_epoch: dict[int, dict[int, str]] = {}
    for epoch, index, applied in served:
        per_epoch.setdefault(epoch, {})[index] = applied
    for index in range(4):  # noise drawn anew: each item differs between every two epochs
        assert len({per_epoch[e][index] for e in (1, 2, 3)}) == 3
    again = _train(tmp_path / "b", seed=3, wrap=wrap)
    assert sorted(again) == sorted(served)
    other = _train(tmp_path / "c", seed=4, wrap=wrap)
    assert sorted(other) != sorted(served)
