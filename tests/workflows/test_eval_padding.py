"""A segmentation run whose preprocessing pads (`fit_depth`, `crop_or_pad`) is scored on its
images only: the Dice in metrics.json is the Dice of the masks `radpipe predict` writes on the
source pixels, worked out here with numpy from the truth PNGs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
name: pad
seed: 0
output: runs
task: segmentation
data: {source: s/dicom, masks: s/masks.csv, unit: series,
       class_names: [background, organ, lesion]}
convert: {format: npy, window: none, workers: 1}
split: {test: 0.34, val: 0.34}
preprocess:
  - {type: fit_depth, depth: 16}   # 4 slices + 12 of padding
  - {type: z_score, mode: image}
model: {type: unet, features: [4, 4, 8, 8, 16, 4]}
train: {epochs: 1, batch_size: 2}
report: {enabled: false}
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "workflows.cli", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done


def _dice(true: np.ndarray, pred: np.ndarray, k: int) -> float | None:
    both = int((true == k).sum() + (pred == k).sum())
    return None if both == 0 else 2 * int(((true == k) & (pred == k)).sum()) / both


def test_padded_slices_are_not_scored(tmp_path: Path) -> None:
    write_study(tmp_path / "s", StudySpec(patients=6, task="segmentation", modality="MR",
                                          size=32, slices=4, series_per_patient=1))  # fmt: skip
    (tmp_path / "pad.yaml").write_text(CONFIG)
    _cli("run", str(tmp_path / "pad.yaml"), "--quiet", cwd=ROOT)
    (run,) = (tmp_path / "runs").glob("pad-*")
    _cli("predict", str(run), str(tmp_path / "s" / "dicom"), "--out", str(tmp_path / "p"), cwd=ROOT)
    slices: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    with (tmp_path / "s" / "masks.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            series, instance = hash_key(row["series_uid"]), hash_key(row["sop_instance_uid"])
            (png,) = (tmp_path / "p" / "masks").glob(f"*/{series}/{instance}_000.png")
            true = np.asarray(Image.open(tmp_path / "s" / row["mask"]))
            slices.setdefault(series, []).append((true, np.asarray(Image.open(png))))
    cases = json.loads((run / "metrics.json").read_text())["per_case"]
    assert len(cases) == 2
    for case in cases:
        true = np.stack([t for t, _ in slices[case["id"]]])  # (4, 32, 32), slice order
        pred = np.stack([p for _, p in slices[case["id"]]])
        assert true.shape == (4, 32, 32)
        for k, name in ((1, "organ"), (2, "lesion")):
            expected = _dice(true, pred, k)
            if expected is None:
                assert case["dice"][name] is None
            else:
                assert case["dice"][name] == pytest.approx(expected, abs=1e-12), name
