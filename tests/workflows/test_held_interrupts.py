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

from workflows.train.interrupts import held_interrupts

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
