"""A segmentation run's labels CSV only stratifies the split: its classes have no rates or
curves, and none is trained or scored without its series."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main

CONFIG = Path(__file__).parents[2] / "configs" / "mr_segment_mlp.yaml"


def test_stratifying_labels_of_one_value_are_not_warned_about_as_classes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Labels all 0 (every series 'no lesion'; or a list CSV for `data.kind: images` that
    needs a label column) made 'class 1' that "has no labelled series ... its rates and
    curves are undefined here": no such rates exist in a segmentation run."""
    study = tmp_path / "s"
    write_study(study, StudySpec(patients=4, modality="MR", task="segmentation", size=16,
                                 slices=2))  # fmt: skip
    with (study / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (study / "labels0.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "label": "0", "class_name": "any"} for r in rows)
    sets = [f"data.source={study / 'dicom'}", f"data.masks={study / 'masks.csv'}",
            f"data.labels={study / 'labels0.csv'}", f"output={tmp_path / 'runs'}",
            "train.epochs=1", "compute.threads=1", "preprocess.0.shape=[16,16]"]  # fmt: skip
    assert main(["run", str(CONFIG), "--quiet", *[a for s in sets for a in ("--set", s)]]) == 0
    err = capsys.readouterr().err
    assert "labelled series" not in err and "rates and curves" not in err, err
