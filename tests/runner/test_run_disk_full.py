"""``radpipe run`` on a full disk (or a run directory turned read-only): one line naming the
file and the reason, then how to resume, never a traceback; nothing half-written is left, and
the resume once there is room finishes the run.

Until 2026-12-03 a checkpoint that could not be written printed a full traceback; and when
``failed.json`` could not be written either (the disk still full), its ``OSError`` replaced
the first, naming ``failed.json``, with no word of how to resume."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.runner.conftest import base_config
from workflows.cli import main
from workflows.run import failure
from workflows.train import checkpoint


def _full(path: Any, *_args: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))  # as io_atomic


@pytest.mark.parametrize("record", ["written", "disk still full"])
def test_a_full_disk_at_a_checkpoint_is_one_line_and_the_resume_finishes(
    cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], record: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(base_config(cr16, tmp_path / "runs")))
    with monkeypatch.context() as patch:
        patch.setattr(checkpoint, "atomic_write_bytes", _full)
        if record != "written":
            patch.setattr(failure, "atomic_write_text", _full)
        assert main(["run", "config.yaml", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    (run,) = (tmp_path / "runs").glob("run-*")
    told = (f"runs/{run.name}/failed.json records what happened" if record == "written"
            else "its failed.json could not be written either")  # fmt: skip
    assert err[-3:] == [
        f"radpipe run: error: runs/{run.name}/checkpoints/best.pt: No space left on device; "
        "make room (or choose another output folder)",
        f"radpipe run: the run stopped; {told}. Once the cause is fixed, continue it with:",
        f"  radpipe run --resume runs/{run.name}",
    ]
    assert not any("Traceback" in line for line in err)
    assert not list(run.rglob("*.pt")) and not list(run.rglob(".*.tmp*"))  # nothing half-written
    assert (run / "failed.json").exists() == (record == "written")
    assert main(["run", "--resume", f"runs/{run.name}", "--quiet"]) == 0
    assert (run / "metrics.json").is_file() and (run / "checkpoints" / "last.pt").is_file()
    assert not (run / "failed.json").exists()
