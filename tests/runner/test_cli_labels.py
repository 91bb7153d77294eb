"""``radpipe run`` and ``predict`` through the CLI with class names in the labels CSV (issue
13, items 3 and 11): no crash after conversion, names in the stored order, and names that
look like spreadsheet formulas written as text."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config, read_json, read_rows, write_rows
from workflows.cli import main


def test_run_and_predict_with_text_labels(cr16: Path, shared_output: Path, tmp_path: Path) -> None:
    names = {"0": "no_lesion", "1": "=HYPERLINK(1)"}  # sorted: "=HYPERLINK(1)" is class 0
    rows = [{**r, "label": names[r["label"]]} for r in read_rows(cr16 / "labels.csv")]
    labels = write_rows(tmp_path / "labels.csv", rows)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(base_config(cr16, shared_output, labels=str(labels))))
    assert main(["run", str(config), "--quiet"]) == 0
    run = max(shared_output.glob("run-*"), key=lambda p: p.stat().st_mtime)
    assert read_json(run / "classes.json")["class_names"] == ["=HYPERLINK(1)", "no_lesion"]
    assert read_json(run / "metrics.json")["class_names"] == ["=HYPERLINK(1)", "no_lesion"]
    provenance = read_json(run / "provenance.json")
    assert provenance["labels"]["labelled"] == 16 and provenance["labels"]["without_label"] == 0

    new = tmp_path / "new"
    write_study(new, StudySpec(patients=3, modality="CR", size=16, series_per_patient=1, seed=5))
    out = tmp_path / "pred"
    assert main(["predict", str(run), str(new / "dicom"), "--out", str(out), "--quiet"]) == 0
    predicted = read_rows(out / "predictions.csv")
    assert len(predicted) == 3
    for r in predicted:
        expected = ["'=HYPERLINK(1)", "no_lesion"][int(r["pred"])]
        assert r["class_name"] == expected
        assert set(r) >= {"prob_=HYPERLINK(1)", "prob_no_lesion"}
