"""An images run whose list's patients cannot fill the split is refused before the run
directory is made (exit 2), with the figures: ``split.folds`` or the ratio split's parts above
the patients the list names, and a ``split.column`` that puts one patient in two parts. They
were refused with exit 1 once the run directory had been made. The list is written here:
8 images of 2 patients (``p0``: images 0-3, ``p1``: 4-7), so the figures are known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.runner.conftest import radpipe_in, write_rows


def _refused(tmp_path: Path, split: dict[str, Any], patient: bool = True) -> str:
    rows = []
    for i in range(8):
        np.save(tmp_path / f"im{i}.npy", np.full((8, 8), float(i % 2), np.float32))
        row = {"image": f"im{i}.npy", "label": i % 2, "part": "test" if i in (0, 5) else "train"}
        rows.append(row | ({"patient_id": f"p{i // 4}"} if patient else {}))
    write_rows(tmp_path / "l.csv", rows)
    raw = {
        "task": "classification", "output": "runs", "split": split,
        "data": {"kind": "images", "source": ".", "labels": "l.csv"},
        "model": {"type": "mlp_classifier", "hidden": [4]},
        "train": {"epochs": 1, "device": "cpu", "monitor": "train_loss"},
    }  # fmt: skip
    (tmp_path / "config.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(tmp_path, "run", "config.yaml", "--quiet")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not (tmp_path / "runs").exists()
    return proc.stderr


@pytest.mark.parametrize(
    ("split", "said"),
    [
        ({"test": 0.0, "folds": 3}, "cannot fill 3 parts (split.folds 3)"),
        ({"test": 0.25, "folds": 2}, "cannot fill 3 parts (split.folds 2 and a test part"),
        ({"test": 0.5, "val": 0.25}, "cannot fill 3 parts (train, val, test: split.val 0.25"),
    ],
    ids=["folds", "folds-and-test", "ratio"],
)
def test_too_few_patients_for_the_split_are_refused_up_front(
    tmp_path: Path, split: dict[str, Any], said: str
) -> None:
    err = _refused(tmp_path, split)
    assert "split: l.csv (8 images of 2 patients)" in err and said in err


def test_images_without_patient_ids_count_one_patient_each(tmp_path: Path) -> None:
    # 8 images, each its own patient: 8 patients < 9 folds
    err = _refused(tmp_path, {"test": 0.0, "folds": 9}, patient=False)
    assert "l.csv (8 images of 8 patients, each image its own patient" in err


def test_a_split_column_with_a_patient_in_two_parts_is_refused_up_front(tmp_path: Path) -> None:
    # p0 has im0 in test, im1-3 in train; p1 has im5 in test, im4/6/7 in train
    err = _refused(tmp_path, {"column": "part"})
    assert "split.column 'part' puts 2 patients in more than one part" in err
    assert "test (line 2, im0.npy), train (line 3, im1.npy)" in err


def test_dicom_series_of_too_few_patients_for_the_folds_are_refused_up_front(
    tmp_path: Path,
) -> None:
    """3 patients x 2 CR series: 6 labelled rows hold 4 folds, the 3 PatientIDs of the
    headers do not (was exit 1 once the source was converted)."""
    import pydicom

    from pipeline.synth import StudySpec, write_study
    from tests.runner.conftest import base_config

    study = tmp_path / "study"
    write_study(study, StudySpec(patients=3, modality="CR", size=16, series_per_patient=2))
    files = [p for p in (study / "dicom").rglob("*") if p.is_file()]
    ids = {pydicom.dcmread(p, stop_before_pixels=True).PatientID for p in files}
    assert (len(files), len(ids)) == (6, 3)
    raw = base_config(study, Path("runs"))
    raw["split"] = {"test": 0.0, "folds": 4}
    (tmp_path / "config.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(tmp_path, "run", "config.yaml", "--quiet")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert not (tmp_path / "runs").exists()
    assert "the 6 series to use in study/dicom (labelled in study/labels.csv) carry 3 " in (
        proc.stderr
    )
    assert "distinct PatientIDs: they cannot fill 4 parts (split.folds 4)" in proc.stderr
