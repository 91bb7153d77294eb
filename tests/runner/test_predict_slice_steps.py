"""``radpipe predict`` says the series whose slice step differs from the training series'.

A series run's model takes volumes ``(C, D, H, W)``: a series of 1 mm slices through a model
trained on 5 mm slices shows it the anatomy stretched five times along the slices, and was
predicted without a word (only the in-plane pixel size was compared). The synthetic MR series
here have slices 3 or 5 mm apart (worked out from their ImagePositionPatient); the folder
predicted has one series with its slice positions compressed five times along the A-P normal.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.keys import hash_key
from pipeline.sample import Sample
from tests.runner.conftest import seg_config
from tests.runner.test_nifti_masks_on_dicom import series_by_position
from workflows.cli import main
from workflows.run.config import validate_config
from workflows.run.planes import note_other_slices, trained_slice_range
from workflows.run.runner import run_study


def _volume(spacing: tuple[float, ...]) -> tuple[Sample, list[Sample]]:
    sample = Sample(np.zeros((1,) + (2,) * len(spacing), np.float32), meta={"spacing": spacing})
    return sample, [sample]


def test_the_training_slice_range_is_that_of_the_preprocessed_volumes() -> None:
    groups = [_volume((5.0, 1.0, 1.0)), _volume((2.5, 0.5, 0.5))]
    assert trained_slice_range(groups) == [2.5, 5.0]
    assert trained_slice_range([_volume((1.0, 1.0))]) is None  # 2-D images: no slice step
    assert trained_slice_range([*groups, _volume((float("nan"), 1.0, 1.0))]) is None


def test_series_outside_the_slice_range_by_more_than_a_tenth_are_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    found = [("a", (0.5, 1.0, 1.0)), ("b", (5.4, 1.0, 1.0)), ("c", (5.6, 1, 1)), ("d", None)]
    with caplog.at_level("WARNING", logger="radpipe"):
        assert note_other_slices(found, [2.5, 5.0]) == 2  # 5.6 > 5.0 x 1.1; 0.5 < 2.5 / 1.1
    assert caplog.messages[0].startswith(
        "2 series of 4 have a slice step after preprocessing outside that of the run's training "
        "series (2.5-5 mm; e.g. a: 0.5 mm)"
    )


def test_predict_says_a_series_of_another_slice_step(
    mr_seg: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = seg_config(mr_seg, tmp_path / "runs", [])
    raw["data"]["unit"] = "series"
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    info = json.loads((outcome.run_dir / "stages" / "data.json").read_text())
    steps = {}  # series_key -> slice step (mm), from the headers: positions along the normal
    for items in series_by_position(mr_seg):
        positions = [np.array([float(v) for v in d.ImagePositionPatient]) for d in items]
        steps[hash_key(str(items[0].SeriesInstanceUID))] = float(
            np.linalg.norm(positions[1] - positions[0])
        )
    with (outcome.run_dir / "split.csv").open(newline="") as fh:
        train = [r["series_key"] for r in csv.DictReader(fh) if r["split"] == "train"]
    low, high = min(steps[k] for k in train), max(steps[k] for k in train)
    assert info["slice_mm"] == [low, high]

    src = tmp_path / "src"
    shutil.copytree(mr_seg / "dicom", src)
    files = sorted(src.rglob("*.dcm"))
    series = pydicom.dcmread(files[0]).SeriesInstanceUID
    for f in files:
        ds = pydicom.dcmread(f)
        if ds.SeriesInstanceUID == series:
            x, y, z = (float(v) for v in ds.ImagePositionPatient)
            ds.ImagePositionPatient = [x, y / 5.0, z]  # the normal is A-P: steps / 5
            ds.save_as(f)
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["predict", str(outcome.run_dir), str(src), "--out", str(tmp_path / "p")]) == 0
    (said,) = [m for m in caplog.messages if "slice step" in m]
    span = f"{low:g}" if low == high else f"{low:g}-{high:g}"
    assert said.startswith("1 series of 8 has a slice step after preprocessing outside that of "
                           f"the run's training series ({span} mm; e.g. ")  # fmt: skip
    assert f": {steps[hash_key(str(series))] / 5:g} mm)" in said
    caplog.clear()  # radpipe evaluate says it and records it in metrics.json
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["evaluate", str(outcome.run_dir), str(src), "--masks",
                     str(mr_seg / "masks.csv"), "--out", str(tmp_path / "e")]) == 0  # fmt: skip
    assert [m for m in caplog.messages if "slice step" in m]
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert metrics["unlike_training"]["other_slice_step"] == 1
    assert metrics["evaluated"].endswith("; unlike the training images: 1 series of another "
                                         "slice step")  # fmt: skip
