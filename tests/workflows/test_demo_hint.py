"""A shipped config run before ``make demo``: its default data are not there yet."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_shipped_config_before_the_demo_says_to_run_it(tmp_path: Path) -> None:
    """``radpipe run configs/xray_classify.yaml`` on a fresh clone said only ``data.source: no
    such folder .cache/demo/xray_classify/dicom``; the fix is ``make demo`` or --set."""
    (tmp_path / "configs").mkdir()
    config = shutil.copy(ROOT / "configs" / "xray_classify.yaml", tmp_path / "configs")
    done = subprocess.run([sys.executable, "-m", "workflows.cli", "run", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert (
        "data.source: no such folder .cache/demo/xray_classify/dicom (the shipped configs' "
        "default data: run `make demo` first, or give your own with --set data.source=... "
        "--set data.labels=...)"
    ) in done.stderr
    assert not (tmp_path / "runs").exists()
