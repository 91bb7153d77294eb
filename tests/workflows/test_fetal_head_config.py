"""``configs/us_fetal_head_unet.yaml`` runs end to end on a synthetic fetal head study, and
what ``radpipe predict`` writes is the head's ellipse (its post-processing in effect)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.measure import label as connected
from skimage.measure import regionprops

from pipeline.synth import StudySpec, write_study
from workflows.run.config import load_config
from workflows.run.runner import run_study

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("one_thread")


def test_fetal_head_config_predicts_one_ellipse_per_image(tmp_path: Path) -> None:
    study = tmp_path / "us"
    write_study(study, StudySpec(patients=8, modality="US", task="segmentation", size=64))
    items = [f"data.source={study / 'dicom'}", f"data.labels={study / 'labels.csv'}",
             f"data.masks={study / 'masks.csv'}", f"output={tmp_path / 'runs'}",
             "preprocess.0.shape=[32,32]", "train.epochs=3",
             "convert.workers=1", "report.enabled=false", "compute.threads=1"]  # fmt: skip
    config = load_config(ROOT / "configs" / "us_fetal_head_unet.yaml", items)
    outcome = run_study(config, progress=False)
    assert outcome is not None
    metrics = json.loads((outcome.run_dir / "metrics.json").read_text())
    assert metrics["class_names"] == ["background", "head"]
    done = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "predict", str(outcome.run_dir), "us/dicom",
         "--out", "pred"], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    masks = sorted((tmp_path / "pred" / "masks").rglob("*.png"))
    assert len(masks) == 16  # every image, at its own 64x64
    heads = 0
    for path in masks:
        mask = np.asarray(Image.open(path))
        assert mask.shape == (64, 64) and set(np.unique(mask)) <= {0, 1}
        if not mask.any():
            continue
        heads += 1
        assert connected(mask).max() == 1  # largest_component
        (props,) = regionprops(mask.astype(np.uint8))
        # fit_ellipse: an ellipse's area is pi a b (scikit-image's moment axes), within 5%
        a, b = props.axis_major_length / 2, props.axis_minor_length / 2
        assert props.area == pytest.approx(np.pi * a * b, rel=0.05), path.name
    assert heads >= 12
