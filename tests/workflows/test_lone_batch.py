"""A last training batch of one sample that the model's batch norm cannot train on: it is
left out of every epoch, saying so (the run stopped in its first epoch with torch's
traceback); a batch size of 1 with such a model is refused before training."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models import build_model
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.lone_batch import fails_on_one_sample
from workflows.train.loop import TrainConfig, train

SIZE = 16


def _mlp(batch_norm: bool = True) -> torch.nn.Module:
    return build_model("mlp_classifier", in_features=SIZE * SIZE, num_classes=2, hidden=(8,),
                       batch_norm=batch_norm)  # fmt: skip


def _config(**kw: object) -> TrainConfig:
    return TrainConfig(**{"epochs": 2, "batch_size": 8, "device": "cpu", "progress": False,
                          "checkpoint_interval_s": 0, **kw})  # type: ignore[arg-type]  # fmt: skip


def test_a_lone_last_batch_is_dropped_and_said(tmp_path: Path, said: list[str]) -> None:
    train_ds, val_ds = PhantomDataset(9, size=SIZE), PhantomDataset(4, size=SIZE, seed=1)
    result = train(_mlp(), train_ds, val_ds, _config(), tmp_path / "a")
    assert [row["samples"] for row in result.history] == [8, 8]  # 9 - the lone one
    (line,) = [m for m in said if "leaves the last batch" in m]
    assert line.startswith(
        "train.batch_size 8 leaves the last batch of each epoch with 1 of "
        "the 9 training samples, and the model's batch norm cannot train"
    )
    # 10 samples: batches of 8 and 2, nothing dropped, nothing said
    said.clear()
    result = train(_mlp(), PhantomDataset(10, size=SIZE), val_ds, _config(), tmp_path / "b")
    assert [row["samples"] for row in result.history] == [10, 10]
    assert not [m for m in said if "leaves the last batch" in m]


@pytest.mark.parametrize("kind", ["no batch norm", "convolutional"])
def test_models_that_take_one_sample_keep_it(tmp_path: Path, said: list[str], kind: str) -> None:
    """Without batch norm, or with batch norm over a 16x16 map (256 values per channel in
    a batch of one), one sample trains: nothing is dropped."""
    model = (_mlp(batch_norm=False) if kind == "no batch norm"
             else build_model("cnn_classifier", in_channels=1, num_classes=2))  # fmt: skip
    result = train(model, PhantomDataset(9, size=SIZE), None, _config(), tmp_path)
    assert [row["samples"] for row in result.history] == [9, 9]
    assert not [m for m in said if "leaves the last batch" in m]


def test_batches_of_one_sample_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"train\.batch_size 1 gives batches of one sample"):
        train(_mlp(), PhantomDataset(4, size=SIZE), None, _config(batch_size=1), tmp_path)


def test_the_probe_changes_neither_the_model_nor_the_random_state() -> None:
    model = _mlp()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    assert fails_on_one_sample(model, PhantomDataset(2, size=SIZE))
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
