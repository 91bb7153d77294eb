"""``radpipe predict`` of a segmentation run names the masks, DICOM SEGs and NIfTI label maps
it wrote, not only ``predictions.csv``: ``seg/`` and ``labels/`` went unsaid.

The expected counts by hand: ``mr_seg`` holds 4 patients x 2 series x 3 slices, one PNG mask
per slice and one SEG and one label map per series.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.runner.conftest import seg_config
from workflows.run.config import validate_config
from workflows.run.runner import run_study

ROOT = Path(__file__).resolve().parents[2]


def test_predict_names_every_kind_of_output(mr_seg: Path, tmp_path: Path) -> None:
    raw = seg_config(mr_seg, tmp_path / "runs", [{"type": "z_score", "mode": "dataset"}])
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    out = tmp_path / "pred"
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "predict", str(outcome.run_dir),
         str(mr_seg / "dicom"), "--out", str(out), "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,  # paths said relative to it
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "24 predictions -> pred/predictions.csv"
    assert lines[1] == ("wrote 24 masks (PNG) in pred/masks, 8 DICOM SEGs in pred/seg, 8 NIfTI "
                        "label maps in pred/labels")  # fmt: skip
