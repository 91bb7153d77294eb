"""The ``radpipe`` logger is set up once per command (``workflows.cli.main``), the same way
for every command: each line once on the terminal, and in a log file of the caller's.

Until 2026-12-03 ``run`` and ``demo`` set it up a second time and turned its propagation
off: a root handler of the caller's (a batch job's ``logging.basicConfig(filename=...)``) got
``run``'s checks made before that, then nothing (not even the run directory), while under a
root handler writing to the terminal every line of ``predict``, ``evaluate`` and ``convert``
showed twice. Each case runs as the caller would: its own process, logging set up first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.runner.conftest import base_config

ROOT = Path(__file__).resolve().parents[2]
#: ``logging.basicConfig(**json.loads(argv[1]))``, then ``radpipe ARGS...``.
CALLER = ("import json, logging, sys; from workflows.cli import main\n"
          "logging.basicConfig(level=logging.INFO, **json.loads(sys.argv[1]))\n"
          "sys.exit(main(sys.argv[2:]))")  # fmt: skip


def _caller(logging_args: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "RADPIPE_SECRET_FILE": os.environ["RADPIPE_SECRET_FILE"]}  # fmt: skip
    argv = [sys.executable, "-c", CALLER, json.dumps(logging_args), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)


def test_a_runs_lines_reach_the_callers_log_file_and_the_terminal_once(
    cr16: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(base_config(cr16, tmp_path / "runs")))
    log = tmp_path / "job.log"
    done = _caller({"filename": str(log), "format": "%(name)s| %(message)s"}, "run",
                   str(config), "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = [p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]
    lines = log.read_text().splitlines()
    said = [x for x in lines if x.startswith("radpipe| run directory: ") and x.endswith(run)]
    assert len(said) == 1, lines
    epochs = [x for x in lines if x.startswith("radpipe| epoch 1/1  train_loss ")]
    assert len(epochs) == 1  # in the file, once
    terminal = done.stderr.splitlines()
    assert [x for x in terminal if x.startswith("radpipe: epoch 1/1  ")] == [
        epochs[0].replace("radpipe| ", "radpipe: ")
    ]  # and on the terminal, once, as radpipe writes it


def test_under_a_root_handler_on_the_terminal_each_line_shows_once(
    cr_run: Path, cr16: Path, tmp_path: Path
) -> None:
    """``predict`` under ``logging.basicConfig()`` (the root logger writing to stderr): its
    info lines were printed by both handlers; now by the caller's alone."""
    done = _caller({"format": "%(name)s| %(message)s"}, "predict", str(cr_run),
                   str(cr16 / "dicom"), "--out", str(tmp_path / "p"))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    ours = [x for x in done.stderr.splitlines() if x.startswith("radpipe|")]
    assert ours  # the command said something through the logger
    assert not [x for x in done.stderr.splitlines() if x.startswith("radpipe: ")]
    assert len(ours) == len(set(ours))
