"""Transfer learning from a run with other classes (or another class order) says so: the
same-shaped output layer is loaded in the source run's class order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from models import build_model
from pipeline.synth import StudySpec, write_study
from tests.workflows.phantom_data import PhantomDataset
from workflows.cli import main
from workflows.train.infer import init_from_checkpoint
from workflows.train.loop import TrainConfig, train

SIZE = 16


@pytest.mark.parametrize("fold", [False, True])
def test_the_source_runs_classes_are_compared(tmp_path: Path, fold: bool) -> None:
    run = tmp_path / "RUN"
    folder = run / "folds" / "fold-0" if fold else run
    ds = PhantomDataset(12, size=SIZE, seed=4)
    torch.manual_seed(0)
    params = {"in_features": SIZE * SIZE, "hidden": (8,)}
    train(build_model("mlp_classifier", **params), ds, None, TrainConfig(epochs=1), folder)
    (run / "classes.json").write_text(json.dumps({"class_names": ["benign", "malignant"]}))
    ckpt = folder / "checkpoints" / "last.pt"
    same = init_from_checkpoint(build_model("mlp_classifier", **params), ckpt,
                                class_names=["benign", "malignant"])  # fmt: skip
    assert same.source_classes is None and "NOTE" not in same.summary()
    swapped = init_from_checkpoint(build_model("mlp_classifier", **params), ckpt,
                                   class_names=["malignant", "benign"])  # fmt: skip
    assert swapped.source_classes == ["benign", "malignant"]
    assert "the checkpoint's run has the classes ['benign', 'malignant']" in swapped.summary()
    assert "head.weight" in swapped.loaded  # loaded all the same, and said


def test_radpipe_run_records_the_source_classes(tmp_path: Path) -> None:
    study = tmp_path / "s"
    write_study(study, StudySpec(patients=16, modality="CR", size=32, series_per_patient=1))
    rows = [line.split(",") for line in (study / "labels.csv").read_text().splitlines()]
    text = "series_uid,label\n" + "".join(f"{r[2]},{r[4]}\n" for r in rows[1:])  # names
    (study / "labels.csv").write_text(text)
    config = Path(__file__).parents[2] / "configs" / "xray_classify.yaml"
    base = ["run", str(config), "--quiet", "--set", f"data.source={study / 'dicom'}",
            "--set", f"data.labels={study / 'labels.csv'}", "--set", "train.epochs=1",
            "--set", "convert.workers=1"]  # fmt: skip
    assert main([*base, "--set", f"output={tmp_path / 'a'}"]) == 0
    (source,) = [p for p in (tmp_path / "a").iterdir() if not p.name.startswith(".")]
    names = json.loads((source / "classes.json").read_text())["class_names"]
    assert names == ["no_lesion", "round_lesion"]  # text labels: alphabetical
    init = source / "checkpoints" / "best.pt"
    assert main([*base, "--set", f"output={tmp_path / 'b'}", "--set", f"train.init_from={init}",
                 "--set", "data.class_names=[round_lesion, no_lesion]"]) == 0  # fmt: skip
    (run,) = [p for p in (tmp_path / "b").iterdir() if not p.name.startswith(".")]
    transfer = json.loads((run / "transfer.json").read_text())
    assert transfer["source_classes"] == ["no_lesion", "round_lesion"]
