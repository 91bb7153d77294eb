"""``radpipe predict`` / ``evaluate`` of a run that another process is still training.

Until 2026-12-03 they advised ``radpipe run --resume RUN`` (the advice for a run left
unfinished), which the run's lock then refused: the advice followed the files, not the state.
Now the training process is named (pid, host, start time) and the advice is to wait; a
refused resume names that process too. Each command runs as a user runs it (a subprocess).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.conftest import radpipe_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfinished(cr_run: Path, tmp_path: Path) -> Path:
    """A copy of ``cr_run`` as a run looks while it trains: no ``train_done.json`` yet."""
    run = tmp_path / cr_run.name
    shutil.copytree(cr_run, run)
    for name in ("train_done.json", "metrics.json"):
        (run / name).unlink(missing_ok=True)
    return run


@pytest.fixture
def trainer(unfinished: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the run as ``radpipe run`` does (``hold_run``) until stdin
    closes."""
    code = ("import sys; from pathlib import Path; from workflows.run.rundir import hold_run\n"
            f"with hold_run(Path({str(unfinished)!r})):\n"
            "    print('held', flush=True); sys.stdin.read()")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.communicate("", timeout=30)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_run_still_training_says_wait_not_resume(
    unfinished: Path, cr16: Path, trainer: subprocess.Popen[str], command: str
) -> None:
    labels = ["--labels", str(cr16 / "labels.csv")] if command == "evaluate" else []
    proc = radpipe_in(unfinished.parent, command, unfinished.name, str(cr16 / "dicom"), *labels)
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(
        f"radpipe {command}: error: {unfinished.name}: training is still in "
        f"progress (pid {trainer.pid} on host {socket.gethostname()} since "
    )
    assert line.endswith("UTC), so the run has no finished model yet; wait for that run to "
                         "end, then run this again.")  # fmt: skip
    assert "--resume" not in line
    assert not list(unfinished.glob("predictions-*")) + list(unfinished.glob("evaluation-*"))


def test_a_refused_resume_names_the_process_that_holds_the_run(
    unfinished: Path, trainer: subprocess.Popen[str]
) -> None:
    proc = radpipe_in(unfinished.parent, "run", "--resume", unfinished.name, "--quiet")
    assert proc.returncode == 1
    assert (f"{unfinished.name} is in use by another radpipe run (pid {trainer.pid} on host "
            f"{socket.gethostname()} since ") in proc.stderr  # fmt: skip


def test_once_the_run_stopped_the_advice_is_to_resume(unfinished: Path, cr16: Path) -> None:
    """No process holds the run (it was stopped): the resume it advises is what works."""
    proc = radpipe_in(unfinished.parent, "predict", unfinished.name, str(cr16 / "dicom"))
    assert proc.returncode == 1
    assert f"finish it with `radpipe run --resume {unfinished.name}`" in proc.stderr
    assert "in progress" not in proc.stderr
    assert not (unfinished / ".radpipe-run.holder.json").exists()
