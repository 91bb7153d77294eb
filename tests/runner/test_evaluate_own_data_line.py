"""``radpipe evaluate`` of an external set reads the run's own data again (its validation split
gives the operating point). Since every command's info lines reach the terminal (2026-12-03),
that showed as a bare ``reusing the cached conversion convert-KEY`` between the lines about
SRC, as if of SRC; the line before it now says whose conversion it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_runs_own_conversion_is_said_to_be_the_runs(
    cr_run: Path, cr16: Path, tmp_path: Path
) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT)}  # the suite's secret made cr_run's keys
    args = ["evaluate", str(cr_run), str(cr16 / "dicom"), "--labels", str(cr16 / "labels.csv")]
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", *args, "--out",
                           str(tmp_path / "ext")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    own = lines.index("radpipe: reading the run's own data (data.source) again for the "
                      "validation operating point")  # fmt: skip
    reused = [i for i, line in enumerate(lines) if "reusing the cached conversion" in line]
    # SRC is the run's own data.source here: its conversion is reused first, then again for
    # the operating point, after the line that says whose it is
    assert reused and reused[-1] == own + 1, lines
