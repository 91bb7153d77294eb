"""``train()`` run again into the same folder, as a notebook cell is run again.

Until 2026-12-02 a fresh run (``resume=False``) into a folder holding an earlier run's
``log.jsonl`` warned ``log.jsonl held epochs 1-2 of an earlier training with no checkpoint to
continue from: training starts again from epoch 1``: a resume's message, for a run that
resumed nothing (it had just removed that run's checkpoints itself).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from models import build_model
from workflows.train.loop import TrainConfig, train


def _items() -> list[dict]:
    g = torch.Generator().manual_seed(0)
    return [{"image": torch.randn(1, 8, 8, generator=g), "label": i % 2, "id": f"s{i}"}
            for i in range(8)]  # fmt: skip


def _train(run: Path, epochs: int, resume: bool = False) -> None:
    config = TrainConfig(epochs=epochs, batch_size=4, progress=False, checkpoint_interval_s=0)
    train(build_model("cnn_classifier", num_classes=2), _items(), _items(), config, run,
          resume=resume)  # fmt: skip


def _epochs(run: Path) -> list[int]:
    return [json.loads(line)["epoch"] for line in (run / "log.jsonl").read_text().splitlines()]


def test_a_fresh_run_replaces_the_earlier_log_without_a_word(
    tmp_path: Path, said: list[str]
) -> None:
    _train(tmp_path / "run", epochs=2)
    said.clear()
    _train(tmp_path / "run", epochs=1)
    assert not [s for s in said if "log.jsonl" in s], said
    assert _epochs(tmp_path / "run") == [1]


def test_a_resume_without_a_checkpoint_still_says_it_starts_again(
    tmp_path: Path, said: list[str]
) -> None:
    run = tmp_path / "run"
    _train(run, epochs=2)
    for name in ("last.pt", "best.pt"):
        (run / "checkpoints" / name).unlink()  # killed before its first checkpoint
    (run / "checkpoints" / "best_single.pt").write_bytes(b"stale")
    _train(run, epochs=2, resume=True)
    assert any("log.jsonl held epochs 1-2 of an earlier training with no checkpoint" in s
               for s in said), said  # fmt: skip
    assert _epochs(run) == [1, 2]
    assert not (run / "checkpoints" / "best_single.pt").exists()  # removed, as by a fresh run
