"""``radpipe predict`` and ``radpipe evaluate`` refuse a run whose training has not finished:
its checkpoints are those of an interrupted run, not the model the run makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main

CONFIG = Path(__file__).parents[2] / "configs" / "xray_classify.yaml"


@pytest.fixture(scope="module")
def kfold_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("unfinished")
    write_study(out / "s", StudySpec(patients=18, modality="CR", size=32, series_per_patient=1))
    code = main([
        "run", str(CONFIG), "--quiet", "--set", f"data.source={out / 's' / 'dicom'}",
        "--set", f"data.labels={out / 's' / 'labels.csv'}", "--set", f"output={out / 'runs'}",
        "--set", "train.epochs=1", "--set", "convert.workers=1", "--set", "split.folds=2",
    ])  # fmt: skip
    assert code == 0
    (run,) = [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]
    return out / "s", run


def test_predict_and_evaluate_refuse_a_fold_that_did_not_finish(
    kfold_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study, run = kfold_run
    src, labels = str(study / "dicom"), str(study / "labels.csv")
    predict = ["predict", str(run), src, "--out", str(tmp_path / "pred"), "--quiet"]
    evaluate = ["evaluate", str(run), src, "--labels", labels, "--out", str(tmp_path / "ev"),
                "--quiet"]  # fmt: skip
    assert main(predict) == 0  # finished: both folds' models
    done = run / "folds" / "fold-1" / "train_done.json"
    saved = done.read_text()
    done.unlink()  # fold 1 interrupted: its checkpoints are of an unfinished run
    try:
        capsys.readouterr()
        assert main([*predict[:3], "--out", str(tmp_path / "pred2"), "--quiet"]) == 1
        said = "fold 1: training has not finished (no train_done.json)"
        assert said in capsys.readouterr().err
        assert not (tmp_path / "pred2" / "predictions.csv").exists()
        assert main(evaluate) == 1
        assert said in capsys.readouterr().err
        assert not (tmp_path / "ev").exists()
    finally:
        done.write_text(saved)
