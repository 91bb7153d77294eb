"""A rerun of ``radpipe predict`` into the same OUT after SRC lost a patient removes that
patient's masks, DICOM SEGs and NIfTI label maps.

Until 2026-12-04 they stayed beside the new ones, unlisted in ``predictions.csv``, and the
command counted them among those it wrote (8 SEGs where SRC had 6 series). Counts by hand:
``mr_seg`` holds 4 patients (one study folder each) x 2 series x 3 slices; without one, 18
slices and 6 series.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from tests.runner.conftest import main_in, seg_config
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def _predict(run: Path, src: Path, cwd: Path) -> list[str]:
    proc = main_in(cwd, "predict", str(run), str(src), "--out", "pred", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [*proc.stdout.splitlines()[:2], proc.stderr]


def test_a_rerun_without_a_patient_drops_its_outputs(mr_seg: Path, tmp_path: Path) -> None:
    raw = seg_config(mr_seg, tmp_path / "runs", [{"type": "z_score", "mode": "dataset"}])
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    src = tmp_path / "src"
    shutil.copytree(mr_seg / "dicom", src)
    first = _predict(outcome.run_dir, src, tmp_path)
    assert first[1] == ("wrote 24 masks (PNG) in pred/masks, 8 DICOM SEGs in pred/seg, 8 NIfTI "
                        "label maps in pred/labels")  # fmt: skip
    out = tmp_path / "pred"
    past = time.time() - 60  # written a minute ago, as by an earlier predict
    for p in out.rglob("*"):
        if p.is_file():
            os.utime(p, (past, past))
    shutil.rmtree(sorted(src.iterdir())[0])  # one patient gone from SRC
    again = _predict(outcome.run_dir, src, tmp_path)
    assert again[0] == "18 predictions -> pred/predictions.csv"
    assert again[1] == ("wrote 18 masks (PNG) in pred/masks, 6 DICOM SEGs in pred/seg, 6 NIfTI "
                        "label maps in pred/labels")  # fmt: skip
    assert "removed 10 files of an earlier prediction into pred" in again[2]  # 6 + 2 + 2
    for folder, count in (("masks", 18), ("seg", 6), ("labels", 6)):
        assert sum(p.is_file() for p in (out / folder).rglob("*")) == count, folder
