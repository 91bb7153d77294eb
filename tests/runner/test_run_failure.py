"""A run that crashes (an unexpected exception, a traceback) keeps its run directory with a
record of what happened, ``failed.json``, and the CLI's last line names it; a resume says the
run had failed, finishes it and removes the record. It left the directory with no word."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.runner.conftest import base_config

ROOT = Path(__file__).resolve().parents[2]

# `radpipe run`, with evaluation made to crash after training (a bug's traceback), the
# message naming an absolute path as many OS errors do
_CRASH = """
import sys
import workflows.run.evaluate as evaluate

def crash(*args, **kwargs):
    raise RuntimeError("cannot read " + sys.argv[2] + "/x/scores.npy")

evaluate.evaluate_run = crash
from workflows.cli import main
sys.exit(main(["run", sys.argv[1], "--quiet"]))
"""


def _cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)} if home else None
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)  # fmt: skip


def test_a_crash_is_recorded_in_the_run_directory_and_a_resume_finishes_it(
    cr16: Path, tmp_path: Path
) -> None:
    raw = base_config(cr16, tmp_path / "runs")
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(raw))
    # the run directory lies outside the working directory, below the home folder
    crashed = _cli("-c", _CRASH, str(config), str(tmp_path), home=tmp_path)
    assert crashed.returncode == 1, crashed.stderr[-2000:]
    assert "Traceback" in crashed.stderr  # a bug is shown as one, for its report
    (run,) = (tmp_path / "runs").glob("*-*")
    record = json.loads((run / "failed.json").read_text())
    assert record["status"] == "failed" and record["error"] == "RuntimeError"
    assert record["message"] == "cannot read .../scores.npy"
    assert record["resume"] == f"radpipe run --resume {run.name}"
    assert str(tmp_path) not in (run / "failed.json").read_text()
    last = crashed.stderr.strip().splitlines()
    assert last[-2].startswith("radpipe run: the run stopped; ")
    # named below the home folder: the absolute path was printed (no absolute local path)
    said = f"~/runs/{run.name}/failed.json records what happened. Once the cause is fixed, "
    assert last[-2].split("; ")[1] == said + "continue it with:"
    assert last[-1] == f"  radpipe run --resume ~/runs/{run.name}"
    assert (run / "train_done.json").is_file()  # its training kept
    resumed = _cli("-m", "workflows.cli", "run", "--resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert (
        f"{run.name} had stopped on an error (RuntimeError: cannot read .../scores.npy, "
        "failed.json); continuing it"
    ) in resumed.stderr
    assert not (run / "failed.json").exists() and (run / "metrics.json").is_file()
