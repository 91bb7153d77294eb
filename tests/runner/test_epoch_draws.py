"""Each training epoch draws new augmentation parameters: the training dataset is told the
epoch (1, 2, 3 for a 3-epoch run) before its batches are made. Mutation killed: the epoch
never passed on (or a constant), so every epoch trained on the same augmented images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.data.base import SampleDataset
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def test_each_epoch_tells_the_training_dataset_its_number(cr16: Path, tmp_path: Path) -> None:
    told: list[int] = []
    real = SampleDataset.set_epoch

    def spy(self: Any, epoch: int) -> None:
        told.append(int(epoch))
        real(self, epoch)

    raw = base_config(cr16, tmp_path) | {"augment": [{"type": "random_flip", "p": 0.5}]}
    raw["train"]["epochs"] = 3
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SampleDataset, "set_epoch", spy)
        assert run_study(validate_config(raw), progress=False) is not None
    assert told == [1, 2, 3]
