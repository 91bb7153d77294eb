"""Checkpoints written off the hot path hold the state of the moment they were submitted,
are written at most every ``checkpoint_interval_s`` seconds (older states first), are on
disk when ``train`` returns, stops on an error or calls back, and report write errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pipeline.errors import ConfigError
from workflows.train import checkpoint
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

    config = TrainConfig(epochs=3, batch_size=8, loss="ce", progress=False,
                         checkpoint_interval_s=0)  # fmt: skip
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


def test_held_states_are_written_when_the_interval_passes_older_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr("workflows.train.checkpoint.time.monotonic", lambda: clock[0])
    order: list[tuple[str, int]] = []
    real = checkpoint.atomic_write_bytes

    def recording(path: Path, data: bytes) -> None:
        real(path, data)
        order.append((Path(path).name, int(load_checkpoint(path)["epoch"])))

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", recording)
    best, last = tmp_path / "best.pt", tmp_path / "last.pt"
    writer = CheckpointWriter(interval_s=60)
    writer.submit([best, last], {"epoch": 1})  # improved in epoch 1
    writer.submit([last], {"epoch": 2})
    clock[0] += 59.9
    writer.submit([last], {"epoch": 3})
    writer.wait()
    assert order == [] and not best.exists() and not last.exists()  # all held so far
    clock[0] += 0.1  # 60 s since the writer started: what is held goes to disk
    writer.submit([last], {"epoch": 4})
    writer.wait()
    assert order == [("best.pt", 1), ("last.pt", 4)]  # best.pt is never behind last.pt
    writer.submit([last], {"epoch": 5})  # (checkpoint_every 2: last.pt due every 2nd epoch)
    writer.submit([best], {"epoch": 6})  # improved, last.pt not due
    writer.submit([last], {"epoch": 7}, final=True)  # the end: written whatever the clock
    writer.wait()
    assert order[2:] == [("best.pt", 6), ("last.pt", 7)]
    writer.submit([best, last], {"epoch": 8})
    writer.flush()
    assert order[4:] == [("best.pt", 8), ("last.pt", 8)]


def test_a_run_stopped_by_an_error_keeps_its_last_finished_epoch(tmp_path: Path) -> None:
    """With the default interval a short run writes nothing until it ends; an error after
    epoch 2 still leaves epoch 2's state in last.pt, the same weights as a 2-epoch run."""
    files_seen: list[bool] = []

    class Stop(Exception):
        pass

    def stop_after_2(epoch: int, row: dict[str, Any]) -> None:
        files_seen.append((tmp_path / "a" / "checkpoints" / "last.pt").exists())
        if epoch == 2:
            raise Stop

    config = TrainConfig(epochs=5, batch_size=8, loss="ce", progress=False)
    assert config.checkpoint_interval_s == 60
    with pytest.raises(Stop):
        train(_net(), _Items(), None, config, tmp_path / "a", on_epoch_end=stop_after_2)
    assert files_seen == [False, False]  # nothing written during the 2 short epochs
    two = _net()
    train(two, _Items(), None, TrainConfig(epochs=2, batch_size=8, loss="ce", progress=False),
          tmp_path / "b")  # fmt: skip
    last = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")
    assert last["epoch"] == 2
    for name, value in two.state_dict().items():
        assert torch.equal(last["model"][name], value), name
    assert (tmp_path / "a" / "checkpoints" / "best.pt").exists()


@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_checkpoint_interval_must_be_a_non_negative_number(value: float) -> None:
    with pytest.raises(ConfigError, match=r"train\.checkpoint_interval_s"):
        TrainConfig(checkpoint_interval_s=value)


def test_best_is_written_before_the_last_of_the_same_epoch_after_a_last_only_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Epoch 2 did not improve (last.pt only), epoch 3 did (best.pt and last.pt): a kill
    between the two files of epoch 3 must leave best.pt at 3, never last.pt at 3 with an older
    best.pt (the resumed run starts after epoch 3 and would not write its best.pt again)."""
    written: list[tuple[str, int]] = []
    real = checkpoint.atomic_write_bytes

    def killed_after_one_file(path: Path, data: bytes) -> None:
        if written:
            raise KeyboardInterrupt  # stands in for SIGKILL between the two files
        real(path, data)
        written.append((Path(path).name, int(load_checkpoint(path)["epoch"])))

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", killed_after_one_file)
    best, last = tmp_path / "best.pt", tmp_path / "last.pt"
    writer = CheckpointWriter(interval_s=60)
    writer.submit([last], {"epoch": 2})
    writer.submit([best, last], {"epoch": 3})
    with pytest.raises(KeyboardInterrupt):
        writer.flush()
    assert written == [("best.pt", 3)] and not last.exists()


def test_a_run_stopped_by_an_error_writes_its_held_state_after_an_earlier_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write of epoch 2 fails (a full disk, since freed); epoch 3 is held when Ctrl-C
    stops the run: leaving the block still writes epoch 3 (the earlier error is logged)."""
    clock = [100.0]
    monkeypatch.setattr("workflows.train.checkpoint.time.monotonic", lambda: clock[0])
    real = checkpoint.atomic_write_bytes
    failures = [OSError(28, "No space left on device")]

    def full_once(path: Path, data: bytes) -> None:
        if failures:
            raise failures.pop()
        real(path, data)

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", full_once)
    last = tmp_path / "last.pt"
    with pytest.raises(KeyboardInterrupt), CheckpointWriter(interval_s=60) as writer:
        clock[0] += 60
        writer.submit([last], {"epoch": 2})  # written at once, and that write fails
        writer.submit([last], {"epoch": 3})  # held: the interval has not passed again
        raise KeyboardInterrupt  # during epoch 4
    assert not failures and load_checkpoint(last)["epoch"] == 3


def test_a_fresh_run_removes_an_earlier_runs_checkpoints(tmp_path: Path) -> None:
    """Held writes come at the end of a short run: an earlier run's files in the same folder
    must not be there meanwhile (a resume would start from them)."""
    ckpt = tmp_path / "a" / "checkpoints"
    ckpt.mkdir(parents=True)
    for name in ("last.pt", "best.pt", "best_single.pt"):
        (ckpt / name).write_bytes(b"an earlier run")
    seen: list[set[str]] = []

    def on_epoch_end(epoch: int, row: dict[str, Any]) -> None:
        seen.append({p.name for p in ckpt.iterdir()})

    config = TrainConfig(epochs=2, batch_size=8, loss="ce", progress=False)
    train(_net(), _Items(), None, config, tmp_path / "a", on_epoch_end=on_epoch_end)
    assert seen == [set(), {"best.pt", "last.pt"}]  # none until the final epoch
    assert load_checkpoint(ckpt / "last.pt")["epoch"] == 2
    assert not (ckpt / "best_single.pt").exists()


def test_training_removes_the_temporaries_of_a_writer_killed_mid_write(tmp_path: Path) -> None:
    """``kill -9`` (or the out-of-memory killer) while ``last.pt`` was written leaves its
    temporary file, a whole model's size, never renamed: ``best.pt``/``last.pt`` stay whole
    (atomic), but until 2026-12-03 every such kill left one more in ``checkpoints/`` for good.
    Training (a resume too) now removes those whose process has ended, not a live writer's."""
    import subprocess
    import sys

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)  # fmt: skip
    folder = tmp_path / "a" / "checkpoints"
    folder.mkdir(parents=True)
    orphan = folder / f".last.{dead}-0-a1b2c3.tmp.pt"
    live = folder / f".best.{os.getpid()}-7-d4e5f6.tmp.pt"  # a process still writing
    for path in (orphan, live):
        path.write_bytes(b"\0" * 1024)
    config = TrainConfig(epochs=1, batch_size=8, loss="ce", progress=False)
    train(_net(), _Items(), None, config, tmp_path / "a")
    assert sorted(p.name for p in folder.iterdir()) == sorted(["best.pt", "last.pt", live.name])
