"""``radpipe evaluate`` checks the external set's classes against the run's: a mask class the
model has no output for refuses the set (naming the mask and its CSV line); a label or mask
class that no training series held is warned about, with its lines, and recorded in
``metrics.json`` (``classes_not_trained``). Both were scored without a word. The expected
counts and lines are read here from the CSVs and mask files."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.runner.conftest import evaluate_external, seg_config, write_rows
from workflows.cli import main
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def test_a_label_no_training_series_had_is_said_with_its_lines(
    cr16: Path, cr_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = tmp_path / "run"
    shutil.copytree(cr_run, run)
    done = json.loads((run / "train_done.json").read_text())
    done["classes_absent_from_training"] = ["round_lesion"]  # as if no training series had it
    (run / "train_done.json").write_text(json.dumps(done))
    with (cr16 / "labels.csv").open(newline="") as fh:
        lines = [i + 2 for i, r in enumerate(csv.DictReader(fh)) if r["label"] == "1"]
    with caplog.at_level("WARNING", logger="radpipe"):
        metrics, _ = evaluate_external(run, cr16, tmp_path / "out")
    (said,) = [m for m in caplog.messages if "no training series" in m]
    shown = ", ".join(map(str, lines[:5])) + (
        f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    )
    assert said.startswith(
        f"--labels (labels.csv): class 'round_lesion' labels {len(lines)} series (lines {shown}), "
        "but no training series of the run had it: the model never learnt it"
    )
    assert metrics["classes_not_trained"] == {"round_lesion": len(lines)}
    with (tmp_path / "out" / "split.csv").open(newline="") as fh:  # every series a test case
        assert {(r["split"], r["fold"]) for r in csv.DictReader(fh)} == {("test", "-1")}


@pytest.fixture(scope="module")
def seg_run(mr_seg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    outcome = run_study(validate_config(seg_config(mr_seg, tmp_path_factory.mktemp("r"), [])),
                        progress=False)  # fmt: skip
    assert outcome is not None
    return outcome.run_dir


def _evaluate(run: Path, study: Path, masks: Path, out: Path) -> int:
    return main(["evaluate", str(run), str(study / "dicom"), "--masks", str(masks),
                 "--out", str(out), "--quiet"])  # fmt: skip


def _mask_lines(masks: Path) -> dict[str, list[int]]:
    with masks.open(newline="") as fh:
        found: dict[str, list[int]] = {}
        for i, r in enumerate(csv.DictReader(fh)):
            found.setdefault(r["mask"], []).append(i + 2)
    return found


def test_a_mask_class_the_model_cannot_output_refuses_the_set(
    seg_run: Path, mr_seg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert json.loads((seg_run / "stages" / "data.json").read_text())["num_classes"] == 3
    truth = tmp_path / "truth"
    shutil.copytree(mr_seg / "masks", truth / "masks")
    shutil.copyfile(mr_seg / "masks.csv", truth / "masks.csv")
    lines = _mask_lines(truth / "masks.csv")
    name = sorted(lines)[4]
    mask = np.asarray(Image.open(truth / name)).copy()
    mask[0, 0] = 3  # a class past the model's 0..2
    Image.fromarray(mask).save(truth / name)
    assert _evaluate(seg_run, mr_seg, truth / "masks.csv", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert (
        f"--masks (masks.csv): 1 of {len(lines)} masks hold a class the run's model cannot "
        f"output: it has 3 classes, 0..2 (nothing was scored): {name} (line {lines[name][0]}): "
        "class 3"
    ) in err
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_a_mask_class_no_training_mask_held_is_said_and_recorded(
    seg_run: Path, mr_seg: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = tmp_path / "run"
    shutil.copytree(seg_run, run)
    info = json.loads((run / "stages" / "data.json").read_text())
    assert info["trained_classes"] == [0, 1, 2]
    (run / "stages" / "data.json").write_text(json.dumps(info | {"trained_classes": [0, 1]}))
    lines = _mask_lines(mr_seg / "masks.csv")
    holders = [n for n in lines if 2 in np.asarray(Image.open(mr_seg / n))]  # in CSV order
    assert 0 < len(holders) < len(lines)
    with caplog.at_level("WARNING", logger="radpipe"):
        assert _evaluate(run, mr_seg, mr_seg / "masks.csv", tmp_path / "out") == 0
    (said,) = [m for m in caplog.messages if "in no training mask" in m]
    assert said.startswith(
        f"--masks (masks.csv): class 2 is in {len(holders)} masks, but in no training mask of "
        "the run: the model never learnt it"
    )
    assert f"{holders[0]} (line {lines[holders[0]][0]}): class 2" in said
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert sorted(metrics["classes_not_trained"]["2"]) == sorted(holders)


def test_external_scores_are_named_in_the_order_the_run_indexed_its_labels(
    cr16: Path, cr_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A run started before its config was recorded (no provenance 'config'), resumed after
    # data.class_names was edited to the other order: its labels, and so its model's outputs,
    # stay in classes.json's order. evaluate named the scores from the config, predict from
    # classes.json: the external scores of each class went to the other's name.
    import yaml

    run = tmp_path / "run"
    shutil.copytree(cr_run, run)
    stored = json.loads((run / "classes.json").read_text())["class_names"]
    assert stored == ["no_lesion", "round_lesion"]
    prov = json.loads((run / "provenance.json").read_text())
    prov.pop("config")
    (run / "provenance.json").write_text(json.dumps(prov))
    raw = yaml.safe_load((run / "config.yaml").read_text())
    raw["data"]["class_names"] = stored[::-1]
    (run / "config.yaml").write_text(yaml.safe_dump(raw))
    study = tmp_path / "study"
    shutil.copytree(cr16, study)
    with (cr16 / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    lesions = [i for i, r in enumerate(rows) if r["class_name"] == "round_lesion"]
    rows = [r for i, r in enumerate(rows) if i not in lesions[:3]]  # else a swap would not show
    write_rows(study / "labels.csv", rows)
    support = {n: [r["class_name"] for r in rows].count(n) for n in stored}
    assert support["no_lesion"] != support["round_lesion"]
    with caplog.at_level("WARNING", logger="radpipe"):
        metrics, _ = evaluate_external(run, study, tmp_path / "out")
    assert metrics["class_names"] == stored
    assert {n: metrics["per_class"][n]["support"] for n in stored} == support
    (said,) = [m for m in caplog.messages if "classes.json's order is used" in m]
    assert said.startswith("data.class_names (config.yaml) lists the classes as round_lesion, ")
