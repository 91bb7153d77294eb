"""``radpipe evaluate`` usage errors exit 2, as README's exit codes say, and write nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.runner.conftest import base_config
from workflows.run.config import dump_config, validate_config

ROOT = Path(__file__).resolve().parents[2]


def _segmentation_run(tmp_path: Path) -> Path:
    """A run directory holding only the resolved config of a DICOM segmentation run: the
    usage checks come before anything of the run is read."""
    for name in ("dicom", "runs"):
        (tmp_path / name).mkdir()
    (tmp_path / "dicom" / "a.dcm").write_bytes(b"")  # an empty SRC is refused first
    (tmp_path / "labels.csv").write_text("series_uid,label\n")
    (tmp_path / "masks.csv").write_text("sop_instance_uid,frame,mask\n")
    raw = base_config(tmp_path, tmp_path / "runs", masks=str(tmp_path / "masks.csv"))
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [8]}}
    run = tmp_path / "runs" / "seg-20261201-000000"
    run.mkdir()
    (run / "config.yaml").write_text(dump_config(validate_config(raw), relative_to=run))
    return run


def test_a_segmentation_run_without_masks_is_a_usage_error(tmp_path: Path) -> None:
    run = _segmentation_run(tmp_path)
    src = tmp_path / "dicom"
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", "evaluate", str(run), str(src)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    # it exited 1 ("some work failed") with "error:", where a classification run without
    # --labels exits 2 with "config error:"
    assert proc.returncode == 2, proc.stderr
    assert "config error: A segmentation run needs --masks" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(run.glob("external-*"))


def test_a_run_without_checkpoints_leaves_no_output_folder(tmp_path: Path) -> None:
    run = _segmentation_run(tmp_path)
    (run / "train_done.json").write_text("{}")  # finished, but its checkpoints were removed
    args = ["evaluate", str(run), str(tmp_path / "dicom"), "--masks", str(tmp_path / "masks.csv")]
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "not trained (last.pt missing in a fold)" in proc.stderr
    assert not list(run.glob("external-*"))  # an empty external-<hash> was left behind
