"""A run killed while appending its epoch line to ``log.jsonl`` leaves that line cut short:
``--resume`` read every line with ``json.loads`` and stopped with a JSONDecodeError instead
of resuming; the cut line (an epoch whose checkpoint was never written) is now dropped, as
the report's reader drops it."""

from __future__ import annotations

import json
from pathlib import Path

from workflows.train.epoch import restart_log


def test_resume_drops_a_log_line_cut_short_and_keeps_the_epochs_checkpointed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    rows = [{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"epoch": 3, "train_lo')
    assert restart_log(path, 2, resume=True) == rows
    assert path.read_text() == "".join(json.dumps(r) + "\n" for r in rows)
