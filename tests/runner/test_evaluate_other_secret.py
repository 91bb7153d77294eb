"""``radpipe evaluate`` under another project secret than the run's: a traceback.

Every key of the run's ``split.csv`` was made with the run's secret; read again under another
one (``RADPIPE_SECRET_FILE`` of another project, a machine without the run's), the run's own
data get other keys, none of its validation series was found, and the operating point stopped
in ``predict()`` with ``ValueError: predict() got an empty dataset.``. Now it is said, and the
external set is scored without an operating point, as when the run's data are gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_another_secret_is_said_not_a_traceback(cr_run: Path, cr16: Path, tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT), "RADPIPE_SECRET_FILE": str(tmp_path / "s")}
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "evaluate", str(cr_run), str(cr16 / "dicom"),
         "--labels", str(cr16 / "labels.csv"), "--out", str(tmp_path / "ext"), "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    val = sum(r.split(",")[3] == "val" for r in (cr_run / "split.csv").read_text().splitlines())
    assert (
        f"radpipe: the run's own validation data are not usable (none of its {val} validation "
        "series is in data.source as converted now: its files changed, or the project secret "
        "(RADPIPE_SECRET_FILE) is not the one the run was made with, so every key differs): no "
        "operating point"
    ) in proc.stderr.splitlines()
    assert "operating_point" not in json.loads((tmp_path / "ext" / "metrics.json").read_text())
