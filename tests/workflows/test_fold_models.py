"""The models of a cross-validated run: ``radpipe predict`` and ``radpipe evaluate`` refuse
a fold whose training has not finished; the Python ``ensemble`` refuses to feed every fold's
model one dataset when the folds fitted different preprocessing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import pipeline.stages  # noqa: F401  (registers the stage types Pipeline.load builds)
from pipeline.data import ManifestDataset
from pipeline.stage import Pipeline
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.train.infer import ensemble, load_model_from_checkpoint, predict

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


def test_ensemble_of_folds_needs_each_folds_own_preprocessing(
    kfold_run: tuple[Path, Path],
) -> None:
    _, run = kfold_run
    conversion = (run / json.loads((run / "provenance.json").read_text())["conversion"]).resolve()
    folds = [run / "folds" / f"fold-{k}" for k in range(2)]
    ckpts = [f / "checkpoints" / "best.pt" for f in folds]
    own = [ManifestDataset(conversion, pipeline=Pipeline.load(f / "stages")) for f in folds]
    # each fold z-scored with its own training split's statistics: the inputs differ
    assert not np.allclose(own[0][0]["image"].numpy(), own[1][0]["image"].numpy())
    with pytest.raises(ValueError, match=r"fitted with different preprocessing \(fold-0/stages"):
        ensemble(ckpts, own[0])
    expected = np.mean(
        [predict(load_model_from_checkpoint(c), d) for c, d in zip(ckpts, own)], axis=0
    )
    np.testing.assert_allclose(ensemble(ckpts, datasets=own), expected, rtol=1e-6)
    np.testing.assert_allclose(expected.sum(axis=1), 1.0, rtol=1e-5)  # probabilities averaged
