"""Checkpoint averaging (``train.average_epochs``): the saved and evaluated weights are the
mean of the chosen epochs' weights, worked out here by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.run.config import RunConfig
from workflows.run.runner import train_config
from workflows.train.average import WeightWindow, average_weights
from workflows.train.checkpoint import load_checkpoint
from workflows.train.loop import TrainConfig, train


def _linear_bn(w: float, b: float) -> nn.Sequential:
    net = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
    with torch.no_grad():
        net[0].weight.fill_(w)
        net[0].bias.fill_(b)
    return net


def test_average_weights_is_the_mean_and_recomputes_batch_norm() -> None:
    states = [_linear_bn(w, b).state_dict() for w, b in [(1.0, 0.0), (2.0, 1.0), (6.0, -4.0)]]
    model = _linear_bn(0.0, 0.0)
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [3.0, -1.0]])
    assert average_weights(model, states, [x]) == 3
    # Mean weight (1 + 2 + 6) / 3 = 3, mean bias (0 + 1 - 4) / 3 = -1.
    assert torch.equal(model[0].weight, torch.full((1, 2), 3.0))
    assert model[0].bias.item() == pytest.approx(-1.0)
    # Linear outputs 3 (x1 + x2) - 1 = 2, 5, 5, 5: mean 4.25; unbiased variance
    # ((2 - 4.25)^2 + 3 (0.75)^2) / 3 = 2.25 (update_bn with one batch).
    assert model[1].running_mean.item() == pytest.approx(4.25)
    assert model[1].running_var.item() == pytest.approx(2.25)


def test_window_anchors_on_the_best_epoch_or_the_last() -> None:
    improved = [True, True, False, True, False, False]
    windows = {}
    for anchor in ("best", "last"):
        window = WeightWindow(2, anchor)
        for epoch, gain in enumerate(improved, start=1):
            window.record(epoch, _linear_bn(float(epoch), 0.0), gain)
        windows[anchor] = [e for e, _ in window.window()]
        again = WeightWindow(2, anchor)
        again.load_state_dict(window.state_dict())
        assert [e for e, _ in again.window()] == windows[anchor]
        assert again.window()[0][1]["0.weight"][0, 0].item() == windows[anchor][0]
    assert windows == {"best": [3, 4], "last": [5, 6]}


def _recording_run(tmp_path: Path, **settings: Any) -> tuple[nn.Module, list[dict[str, Any]]]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    seen: list[dict[str, Any]] = []

    def keep(epoch: int, row: dict[str, Any]) -> None:
        seen.append({k: v.clone() for k, v in model.state_dict().items()})

    train_ds = PhantomDataset(12, size=8, seed=1)
    val_ds = PhantomDataset(6, size=8, seed=2)
    config = TrainConfig(epochs=4, batch_size=4, lr=0.05, seed=1, progress=False, **settings)
    train(model, train_ds, val_ds, config, tmp_path, on_epoch_end=keep)
    return model, seen


def test_saved_and_evaluated_model_is_the_mean_of_the_last_epochs(tmp_path: Path) -> None:
    model, seen = _recording_run(tmp_path, average_epochs=3, average_anchor="last")
    saved = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    for key in ("1.weight", "1.bias"):
        mean = (seen[1][key] + seen[2][key] + seen[3][key]) / 3
        assert not torch.allclose(seen[3][key], mean)  # the epochs really differ
        torch.testing.assert_close(saved["model"][key], mean, rtol=0, atol=1e-6)
        torch.testing.assert_close(model.state_dict()[key], mean, rtol=0, atol=1e-6)
    record = json.loads((tmp_path / "average.json").read_text())
    assert record["epochs"] == [2, 3, 4] and saved["averaged"]["epochs"] == [2, 3, 4]
    assert saved["epoch"] == 4  # the window's last: its draws recompute batch norm, not epoch 2's
    assert record["batch_norm_recomputed"] is False
    single = load_checkpoint(tmp_path / "checkpoints" / "best_single.pt")
    assert single["epoch"] == record["best_single_epoch"]
    # The recorded validation loss is that of the mean weights, computed here by hand.
    val = PhantomDataset(6, size=8, seed=2)
    x = torch.stack([val[i]["image"] for i in range(6)]).reshape(6, -1)
    y = torch.stack([val[i]["label"] for i in range(6)])
    w = sum(s["1.weight"] for s in seen[1:]) / 3
    b = sum(s["1.bias"] for s in seen[1:]) / 3
    expected = nn.functional.cross_entropy(x @ w.T + b, y).item()
    assert saved["metrics"]["val_loss"] == pytest.approx(expected, rel=1e-5)
    assert record["metrics"]["val_loss"] == pytest.approx(expected, rel=1e-5)


def test_off_by_default_and_one_epoch_is_refused(tmp_path: Path) -> None:
    _recording_run(tmp_path)
    assert not (tmp_path / "average.json").exists()
    assert not (tmp_path / "checkpoints" / "best_single.pt").exists()
    with pytest.raises(ConfigError, match=r"train\.average_epochs"):
        TrainConfig(average_epochs=1)
    with pytest.raises(ConfigError, match=r"train\.average_anchor"):
        TrainConfig(average_epochs=3, average_anchor="middle")
    raw = {"task": "classification", "data": {"source": "x"}, "model": {"type": "mlp_classifier"},
           "train": {"average_epochs": 5, "average_anchor": "last"}}  # fmt: skip
    tc = train_config(RunConfig.model_validate(raw))
    assert (tc.average_epochs, tc.average_anchor) == (5, "last")


def test_a_fresh_run_leaves_no_best_single_pt_of_an_earlier_one(tmp_path: Path) -> None:
    """Mutation: the checkpoints of an earlier run in the folder kept by a fresh one (its
    ``best_single.pt`` then sits beside a ``best.pt`` that was never averaged)."""
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "best_single.pt").write_bytes(b"an earlier run's")
    _recording_run(tmp_path)
    assert not (tmp_path / "checkpoints" / "best_single.pt").exists()


def test_resumed_run_averages_the_same_epochs(tmp_path: Path) -> None:
    _, seen = _recording_run(tmp_path / "a", average_epochs=3, average_anchor="last")

    class Killed(Exception):
        pass

    def kill_after_epoch_3(epoch: int, row: dict[str, Any]) -> None:
        if epoch == 3:
            raise Killed

    settings = {"epochs": 4, "batch_size": 4, "lr": 0.05, "seed": 1, "progress": False,
                "average_epochs": 3, "average_anchor": "last"}  # fmt: skip
    data = PhantomDataset(12, size=8, seed=1), PhantomDataset(6, size=8, seed=2)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    with pytest.raises(Killed):
        train(
            model, *data, TrainConfig(**settings), tmp_path / "b", on_epoch_end=kill_after_epoch_3
        )
    fresh = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))  # other initial weights
    train(fresh, *data, TrainConfig(**settings), tmp_path / "b", resume=True)
    straight = load_checkpoint(tmp_path / "a" / "checkpoints" / "best.pt")["model"]
    resumed = load_checkpoint(tmp_path / "b" / "checkpoints" / "best.pt")["model"]
    for key in ("1.weight", "1.bias"):
        mean = (seen[1][key] + seen[2][key] + seen[3][key]) / 3  # epochs 2-4, 2-3 before the kill
        torch.testing.assert_close(resumed[key], mean, rtol=0, atol=1e-6)
        torch.testing.assert_close(resumed[key], straight[key], rtol=0, atol=1e-6)
    # Resuming the finished run averages again but keeps the single best epoch's checkpoint.
    again = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    train(again, *data, TrainConfig(**settings), tmp_path / "b", resume=True)
    single = load_checkpoint(tmp_path / "b" / "checkpoints" / "best_single.pt")
    assert "averaged" not in single and "optimizer" in single
    redone = load_checkpoint(tmp_path / "b" / "checkpoints" / "best.pt")["model"]
    torch.testing.assert_close(redone["1.weight"], resumed["1.weight"], rtol=0, atol=1e-6)


class _Shifted(torch.utils.data.Dataset[dict[str, Any]]):
    """Four 1x4x4 images whose pixels are their index plus the epoch the loop set (an
    augmentation whose draws change every epoch, easy to follow by hand)."""

    def __init__(self) -> None:
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> dict[str, Any]:
        image = torch.full((1, 4, 4), float(i + self.epoch))
        return {"image": image, "label": torch.tensor(i % 2), "id": f"i{i}"}


def test_batch_norm_is_recomputed_on_the_draws_of_the_windows_last_epoch(tmp_path: Path) -> None:
    """Mutation: batch-norm statistics recomputed on the draws of the last epoch trained, not
    of the window's last epoch. Maximising the validation loss while training lowers it makes
    epoch 1 the best; with ``anchor="best"`` the window is epoch 1 alone, so the input batch
    norm's running mean is the mean of the epoch-1 images: (1 + 2 + 3 + 4) / 4 = 2.5 (the
    last epoch, 3, would give 4.5)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.BatchNorm2d(1), nn.Flatten(), nn.Linear(16, 2))
    config = TrainConfig(epochs=3, batch_size=2, lr=0.05, seed=1, progress=False,
                         monitor="val_loss", mode="max", average_epochs=2,
                         average_anchor="best")  # fmt: skip
    train(model, _Shifted(), _Shifted(), config, tmp_path)
    saved = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert saved["averaged"]["epochs"] == [1] and saved["averaged"]["batch_norm_recomputed"]
    assert saved["model"]["0.running_mean"].item() == pytest.approx(2.5)
