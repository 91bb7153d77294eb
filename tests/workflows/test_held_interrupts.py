"""An interrupt (Ctrl-C, or ``radpipe run``'s SIGTERM stop) arriving while an epoch's record
is written is delivered after it: ``log.jsonl`` and ``last.pt`` then end at the same epoch.
It arrived once between the log line and the checkpoint's hand-over (``log.jsonl`` 4 epochs,
``last.pt`` epoch 3; seen in ``test_run_outcome``'s SIGTERM test on a loaded machine)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch

from pipeline.interrupts import held_interrupts

pytestmark = pytest.mark.usefixtures("ctrl_c_raises")


def test_a_signal_in_the_block_is_delivered_at_its_end() -> None:
    ran_on = []
    with pytest.raises(KeyboardInterrupt), held_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        ran_on.append("after the signal")
    assert ran_on == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_without_a_signal_nothing_happens() -> None:
    with held_interrupts():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_after_the_log_line_still_checkpoints_that_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C right after epoch 2's log line: the run stops with last.pt at epoch 2 and two
    log lines (it was epoch 1's checkpoint beside two lines)."""
    from models import build_model
    from workflows.train import loop
    from workflows.train.checkpoint import load_checkpoint
    from workflows.train.loop import TrainConfig, train

    real = loop.append_log

    def log_then_interrupt(path: Path, row: dict[str, object]) -> None:
        real(path, row)
        if row["epoch"] == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(loop, "append_log", log_then_interrupt)
    g = torch.Generator().manual_seed(0)
    data = [
        {"image": torch.randn(1, 4, 4, generator=g), "label": torch.tensor(i % 2)} for i in range(8)
    ]
    model = build_model("mlp_classifier", in_features=16, num_classes=2, hidden=[4])
    config = TrainConfig(epochs=5, batch_size=4, seed=0, checkpoint_interval_s=3600)
    with pytest.raises(KeyboardInterrupt):
        train(model, data, data, config, tmp_path / "run")
    logged = (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    assert len(logged) == 2
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["epoch"] == 2


def test_a_second_ctrl_c_while_training_stops_still_writes_the_held_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training stops on a first Ctrl-C with epoch 3's ``last.pt`` being written and epoch
    4's held (``checkpoint_interval_s`` not yet passed); a second Ctrl-C (a real SIGINT)
    comes while the writer waits for epoch 3. Until 2026-12-03 it ended the wait and epoch 4
    was never written (the resume redid a finished epoch); now the stop waits for both files
    and then goes on, ``last.pt`` at epoch 4."""
    import threading

    from workflows.train import checkpoint
    from workflows.train.checkpoint import CheckpointWriter, load_checkpoint

    go, real = threading.Event(), checkpoint.atomic_write_bytes

    def slow_write(path: Path, data: bytes) -> None:
        go.wait(30)  # epoch 3's write, in flight until the second Ctrl-C has come
        real(path, data)

    def second_ctrl_c() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        go.set()

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", slow_write)
    last = tmp_path / "last.pt"
    timer = threading.Timer(1.0, second_ctrl_c)  # the stop is waiting on epoch 3 by then
    with pytest.raises(KeyboardInterrupt), CheckpointWriter(3600.0) as writer:
        writer.submit([last], {"epoch": 3}, final=True)
        writer.submit([last], {"epoch": 4})  # held: the interval has not passed
        timer.start()
        raise KeyboardInterrupt  # the first Ctrl-C, in the training loop
    timer.join()
    assert load_checkpoint(last)["epoch"] == 4
