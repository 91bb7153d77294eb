"""Training is never silently wrong: frozen batch norm stays frozen, a diverged run stops
before a NaN epoch can become a checkpoint, validation runs in eval mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from models import build_model
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.checkpoint import load_checkpoint
from workflows.train.epoch import TrainingDiverged
from workflows.train.infer import init_from_checkpoint, predict
from workflows.train.loop import TrainConfig, train

SIZE = 16


@pytest.fixture(scope="module")
def cls() -> PhantomDataset:
    return PhantomDataset(24, size=SIZE, seed=4)


def _source(tmp_path: Path, ds: PhantomDataset) -> Path:
    torch.manual_seed(1)
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,))
    train(model, ds, ds, TrainConfig(epochs=1, batch_size=6), tmp_path / "source")
    return tmp_path / "source" / "checkpoints" / "last.pt"


@pytest.mark.parametrize("average", [0, 2])
def test_a_frozen_batch_norm_keeps_its_running_statistics(
    tmp_path: Path, cls: PhantomDataset, average: int
) -> None:
    source = _source(tmp_path, cls)
    saved = load_checkpoint(source)["model"]  # body.1 is the BatchNorm1d of the body
    torch.manual_seed(5)
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,), num_classes=3)
    init_from_checkpoint(model, source, freeze=["body.*"])
    relabel = [dict(item, label=torch.tensor(i % 3)) for i, item in enumerate(cls)]
    config = TrainConfig(epochs=2, batch_size=6, average_epochs=average)
    train(model, relabel, None, config, tmp_path / "new")
    best = load_checkpoint(tmp_path / "new" / "checkpoints" / "best.pt")["model"]
    for state in (model.state_dict(), best):
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            assert torch.equal(state[f"body.1.{name}"], saved[f"body.1.{name}"]), name
    # the trainable head did learn, and its batch norm-free path saw the frozen statistics
    assert not torch.equal(best["head.bias"], torch.zeros(3))


class _PoisonedFrom(Dataset[dict[str, Any]]):
    """``ds`` whose images become NaN from epoch ``start`` on (a stage that divides by a
    zero range, say); the loop tells it the epoch through ``set_epoch``."""

    def __init__(self, ds: PhantomDataset, start: int) -> None:
        self.ds, self.start, self.epoch = ds, start, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = dict(self.ds[i])
        if self.epoch >= self.start:
            item["image"] = torch.full_like(item["image"], float("nan"))
        return item


def test_a_diverged_run_stops_before_a_nan_epoch_is_written(
    tmp_path: Path, cls: PhantomDataset
) -> None:
    torch.manual_seed(0)
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,))
    config = TrainConfig(epochs=5, batch_size=6, checkpoint_interval_s=0)
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch 3: train_loss nan"):
        train(model, _PoisonedFrom(cls, 3), cls, config, tmp_path)
    last = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    best = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert last["epoch"] == 2 and best["epoch"] in (1, 2)
    for ckpt in (last, best):
        assert all(bool(torch.isfinite(v).all()) for v in ckpt["model"].values())
    rows = (tmp_path / "log.jsonl").read_text().splitlines()
    assert len(rows) == 2  # the NaN epoch is not logged as if it were a result


def test_nan_from_the_first_epoch_leaves_no_best_checkpoint(
    tmp_path: Path, cls: PhantomDataset
) -> None:
    torch.manual_seed(0)
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,))
    with pytest.raises(TrainingDiverged, match=r"no best\.pt was written"):
        train(model, _PoisonedFrom(cls, 1), cls, TrainConfig(epochs=3, batch_size=6), tmp_path)
    assert not (tmp_path / "checkpoints" / "best.pt").exists()


class _ModeProbe(nn.Module):
    """Logits that say which mode the model is in: class 1 in eval mode, class 0 in train
    mode; a learnable bias so the optimizer has something to step."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        hot = torch.tensor([0.0, 10.0] if not self.training else [10.0, 0.0])
        return hot.expand(n, 2) + self.bias * 0


def test_validation_runs_in_eval_mode(tmp_path: Path, cls: PhantomDataset) -> None:
    # every validation item labelled 1: accuracy 1.0 in eval mode, 0.0 in train mode
    ones = [dict(item, label=torch.tensor(1)) for item in cls]
    result = train(_ModeProbe(), cls, ones, TrainConfig(epochs=1, batch_size=6), tmp_path)
    assert result.history[0]["val_accuracy"] == 1.0


def test_predict_runs_in_eval_mode_without_gradients(cls: PhantomDataset) -> None:
    probe = _ModeProbe().train()
    probs = predict(probe, cls, batch_size=6)
    expected = torch.tensor([0.0, 10.0]).softmax(0).numpy()  # the eval-mode logits
    assert probs.shape == (len(cls), 2)
    assert abs(float(probs[0, 1]) - float(expected[1])) < 1e-6
    assert probe.bias.grad is None


class _Background(nn.Module):
    """Per-pixel logits that always say background (class 0 of 3)."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        zeros = torch.zeros_like(x[:, :1])  # (B, 1, H, W)
        return torch.cat([zeros + 10, zeros, zeros], dim=1) + self.bias


def test_a_monitor_that_is_never_a_number_is_said(tmp_path: Path, said: list[str]) -> None:
    seg = PhantomDataset(6, size=SIZE, task="segmentation", seed=3)
    empty = [dict(item, mask=torch.zeros_like(item["mask"])) for item in seg]
    # no foreground in the validation masks nor in the predictions: Dice 0/0, NaN
    result = train(_Background(), seg, empty, TrainConfig(epochs=2, batch_size=3), tmp_path)
    assert all(row["val_dice"] != row["val_dice"] for row in result.history)  # NaN
    assert not (tmp_path / "checkpoints" / "best.pt").exists()
    assert any(m.startswith("train.monitor val_dice was NaN in every epoch (2)") for m in said)


def test_resume_with_other_training_settings_is_refused(
    tmp_path: Path, cls: PhantomDataset
) -> None:
    def model() -> nn.Module:
        torch.manual_seed(0)
        return build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,))

    cosine = {"epochs": 2, "batch_size": 6, "lr": 1e-3, "schedule": "cosine"}
    train(model(), cls, cls, TrainConfig(**cosine), tmp_path / "a")
    with pytest.raises(ConfigError, match=r"other training settings \(lr 0\.001 -> 0\.01\)"):
        train(model(), cls, cls, TrainConfig(**cosine | {"lr": 1e-2}), tmp_path / "a", resume=True)
    # the cosine schedule's length is part of its restored state: more epochs would not anneal
    with pytest.raises(ConfigError, match=r"\(epochs 2 -> 4\)"):
        train(model(), cls, cls, TrainConfig(**cosine | {"epochs": 4}), tmp_path / "a", resume=True)
    # speed settings may change; without a cosine schedule, so may the number of epochs
    flat = {"epochs": 2, "batch_size": 6, "lr": 1e-3}
    train(model(), cls, cls, TrainConfig(**flat), tmp_path / "b")
    longer = TrainConfig(**flat | {"epochs": 3, "checkpoint_interval_s": 0, "progress": False})
    result = train(model(), cls, cls, longer, tmp_path / "b", resume=True)
    assert [row["epoch"] for row in result.history] == [1, 2, 3]


def test_resume_with_another_model_is_refused(tmp_path: Path, cls: PhantomDataset) -> None:
    """A model whose tensors fit the checkpoint but whose hyperparameters differ (dropout 0.5
    where the run trained without) loaded last.pt and went on without a word: two models in
    one run. Other hidden sizes failed with torch's size-mismatch list. Both are refused."""
    settings = TrainConfig(epochs=1, batch_size=6)
    train(build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,)), cls, cls,
          settings, tmp_path)  # fmt: skip
    longer = TrainConfig(epochs=2, batch_size=6)
    dropout = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,), dropout=0.5)
    with pytest.raises(
        ConfigError, match=r"other training settings \(model dropout 0\.0 -> 0\.5\)"
    ):
        train(dropout, cls, cls, longer, tmp_path, resume=True)
    wider = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(16,))
    with pytest.raises(ConfigError, match=r"\(model hidden \[8\] -> \[16\]\)"):
        train(wider, cls, cls, longer, tmp_path, resume=True)
    same = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,))
    assert train(same, cls, cls, longer, tmp_path, resume=True).epochs_run == 2
