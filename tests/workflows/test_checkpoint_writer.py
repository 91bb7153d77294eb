"""Checkpoints written off the hot path hold the state of the moment they were submitted,
are on disk when ``train`` returns or calls back, and report write errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from workflows.train.checkpoint import CheckpointWriter, load_checkpoint
from workflows.train.loop import TrainConfig, train


def test_the_file_holds_the_state_at_submit_time(tmp_path: Path) -> None:
    layer = nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    writer = CheckpointWriter()
    paths = [tmp_path / "best.pt", tmp_path / "last.pt"]
    writer.submit(paths, {"model": layer.state_dict(), "epoch": 4, "rows": [(1, torch.ones(2))]})
    with torch.no_grad():
        layer.weight.fill_(7.0)  # training goes on while the thread writes
    writer.wait()
    for path in paths:
        ckpt = load_checkpoint(path)
        assert torch.equal(ckpt["model"]["weight"], torch.ones(2, 3)) and ckpt["epoch"] == 4
        assert torch.equal(ckpt["rows"][0][1], torch.ones(2))
    assert paths[0].read_bytes() == paths[1].read_bytes()  # one serialisation, two files


def test_write_errors_reach_the_caller(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    writer = CheckpointWriter()
    writer.submit([tmp_path / "file" / "last.pt"], {"epoch": 1})  # a folder under a file
    with pytest.raises(OSError):
        writer.wait()
    writer.wait()  # the error is reported once


class _Items(torch.utils.data.Dataset[dict[str, Any]]):
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(40, 1, 4, 4, generator=g)
        self.y = (self.x.mean(dim=(1, 2, 3)) > 0).long()

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.x[i], "label": self.y[i], "id": str(i)}


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 2))


def test_train_callbacks_and_return_see_written_checkpoints(tmp_path: Path) -> None:
    seen: list[int] = []

    def on_epoch_end(epoch: int, row: dict[str, Any]) -> None:
        seen.append(int(load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")["epoch"]))

    config = TrainConfig(epochs=3, batch_size=8, loss="ce", progress=False)
    model = _net()
    train(model, _Items(), None, config, tmp_path / "a", on_epoch_end=on_epoch_end)
    assert seen == [1, 2, 3]
    last = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")
    for name, value in model.state_dict().items():
        assert torch.equal(last["model"][name], value), name
    # Same seed, same result (no callback this time: nothing waits between epochs).
    again = _net()
    train(again, _Items(), None, config, tmp_path / "b")
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), name
