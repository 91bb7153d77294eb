"""A segmentation run whose preprocessing pads (`fit_depth`, `crop_or_pad`) is scored on its
images only: the Dice in metrics.json is the Dice of the masks `radpipe predict` writes on the
source pixels, worked out here with numpy from the truth PNGs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study
from workflows.cli import main

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
evaluate: {explain: 0}   # saliency of 3-D volumes: half the run, not this test
"""


def _cli(*args: str) -> None:
    """``radpipe ARGS`` through the command line's ``main`` in this process (what is tested is
    what the run and predict write, not the terminal: two interpreters with torch cost more
    than the run)."""
    assert main([*args, "--quiet"]) == 0


def _dice(true: np.ndarray, pred: np.ndarray, k: int) -> float | None:
    both = int((true == k).sum() + (pred == k).sum())
    return None if both == 0 else 2 * int(((true == k) & (pred == k)).sum()) / both


@pytest.fixture(scope="module")
def padded_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(study folder, run directory, predict's output) of a run whose fit_depth pads."""
    tmp_path = tmp_path_factory.mktemp("pad")
    write_study(tmp_path / "s", StudySpec(patients=6, task="segmentation", modality="MR",
                                          size=32, slices=4, series_per_patient=1))  # fmt: skip
    (tmp_path / "pad.yaml").write_text(CONFIG)
    _cli("run", str(tmp_path / "pad.yaml"))
    (run,) = (tmp_path / "runs").glob("pad-*")
    _cli("predict", str(run), str(tmp_path / "s" / "dicom"), "--out", str(tmp_path / "p"))
    return tmp_path / "s", run, tmp_path / "p"


def _volumes(study: Path, predicted: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per series key: truth and predict's masks, (4, 32, 32) each, from the PNGs."""
    slices: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    with (study / "masks.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            series, instance = hash_key(row["series_uid"]), hash_key(row["sop_instance_uid"])
            (png,) = (predicted / "masks").glob(f"*/{series}/{instance}_000.png")
            true = np.asarray(Image.open(study / row["mask"]))
            slices.setdefault(series, []).append((true, np.asarray(Image.open(png))))
    return {k: (np.stack([t for t, _ in v]), np.stack([p for _, p in v]))
            for k, v in slices.items()}  # fmt: skip


def _keys(run: Path, split: str) -> list[str]:
    with (run / "split.csv").open(newline="") as fh:
        return [r["series_key"] for r in csv.DictReader(fh) if r["split"] == split]


def test_padded_slices_are_not_scored(padded_run: tuple[Path, Path, Path]) -> None:
    study, run, predicted = padded_run
    volumes = _volumes(study, predicted)
    cases = json.loads((run / "metrics.json").read_text())["per_case"]
    assert len(cases) == 2
    for case in cases:
        true, pred = volumes[case["id"]]  # slice order
        assert true.shape == (4, 32, 32)
        for k, name in ((1, "organ"), (2, "lesion")):
            expected = _dice(true, pred, k)
            if expected is None:
                assert case["dice"][name] is None
            else:
                assert case["dice"][name] == pytest.approx(expected, abs=1e-12), name


def test_validation_dice_leaves_padding_out(padded_run: tuple[Path, Path, Path]) -> None:
    """val_dice of log.jsonl (early stopping, best.pt, learning curves) is the Dice of the
    epoch's model on the validation images only: pooled over the 2 validation series, the
    mean of organ and lesion Dice of predict's masks (1 epoch: best.pt is that epoch's).
    It counted the 12 padded slices of each series (0.036 against 0.134 on the images)."""
    study, run, predicted = padded_run
    volumes = _volumes(study, predicted)
    val = _keys(run, "val")
    assert len(val) == 2
    true = np.concatenate([volumes[k][0] for k in val])
    pred = np.concatenate([volumes[k][1] for k in val])
    per_class = [d for d in (_dice(true, pred, 1), _dice(true, pred, 2)) if d is not None]
    (row,) = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert row["val_dice"] == pytest.approx(float(np.mean(per_class)), abs=1e-12)
    assert row["val_accuracy"] == pytest.approx(
        ((true == pred).sum() + 2 * 12 * 32 * 32) / (2 * 16 * 32 * 32), abs=1e-12
    )  # padding: background in truth and prediction, as the evaluation scores it


def test_voxel_fraction_leaves_padding_out(padded_run: tuple[Path, Path, Path]) -> None:
    """metrics.json's data.classes mean_voxel_fraction: each test series' fraction of its
    4 x 32 x 32 image voxels (it was a fraction of the 16 padded slices: a quarter of it)."""
    study, run, predicted = padded_run
    volumes = _volumes(study, predicted)
    test = _keys(run, "test")
    classes = json.loads((run / "metrics.json").read_text())["data"]["classes"]
    for k, name in enumerate(("background", "organ", "lesion")):
        expected = np.mean([(volumes[key][0] == k).mean() for key in test])
        assert classes[name]["mean_voxel_fraction"] == pytest.approx(expected, abs=1e-12), name
