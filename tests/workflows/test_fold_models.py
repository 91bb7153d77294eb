"""The models of a cross-validated run: ``radpipe predict`` and ``radpipe evaluate`` refuse
a fold whose training has not finished or that lost its folder, ``best.pt`` or fitted
preprocessing; the Python ``ensemble`` refuses to feed every fold's
model one dataset when the folds fitted different preprocessing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import pipeline.stages  # noqa: F401  (registers the stage types Pipeline.load builds)
from pipeline.data import ManifestDataset
from pipeline.stage import Pipeline
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.train.infer import ensemble, load_model_from_checkpoint, predict

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "xray_classify.yaml"


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


# A cross-validated run that lost part of its model, as `radpipe predict` and `radpipe evaluate`
# users see it (subprocesses): a fold folder deleted, a fold's best.pt deleted or cut short,
# its fitted preprocessing deleted. Each is refused by name, exit 1, before anything is
# converted. Until 2026-12-02 a deleted fold folder ended in a traceback (FileNotFoundError:
# .../fold-1/stages/data.json), and a deleted best.pt was replaced by last.pt (another epoch's
# model) without a word: predict exited 0 with the predictions of a model not the run's.


@pytest.fixture
def damaged(kfold_run: tuple[Path, Path]) -> Iterator[Path]:
    """A copy of the run beside it (its relative paths still hold), removed afterwards."""
    _, run = kfold_run
    copy = run.parent / "damaged"
    shutil.copytree(run, copy)
    yield copy
    shutil.rmtree(copy)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflows.cli", *args, "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _refused(run: Path, study: Path, out: Path, said: str, evaluate: bool = False) -> None:
    """predict (and ``evaluate``: both take the folds from ``run_checkpoints``) refuse."""
    src = str(study / "dicom")
    commands = [["predict", str(run), src, "--out", str(out / "pred")]]
    if evaluate:
        commands.append(["evaluate", str(run), src, "--labels", str(study / "labels.csv"),
                         "--out", str(out / "ev")])  # fmt: skip
    for args in commands:
        proc = _cli(*args)
        assert proc.returncode == 1, (args[0], proc.stderr)
        assert said in proc.stderr, (args[0], proc.stderr)
        assert "Traceback" not in proc.stderr
        assert str(run) not in proc.stderr  # no absolute local path
    assert not (out / "pred").exists() and not (out / "ev").exists()  # refused before any work


def test_a_deleted_fold_folder_is_named(
    kfold_run: tuple[Path, Path], damaged: Path, tmp_path: Path
) -> None:
    shutil.rmtree(damaged / "folds" / "fold-1")
    said = "fold 1: its folder folds/fold-1 is missing"
    _refused(damaged, kfold_run[0], tmp_path, said, evaluate=True)


def test_a_deleted_best_checkpoint_is_not_replaced_by_last(
    kfold_run: tuple[Path, Path], damaged: Path, tmp_path: Path
) -> None:
    ckpts = damaged / "folds" / "fold-0" / "checkpoints"
    assert (ckpts / "last.pt").is_file()
    (ckpts / "best.pt").unlink()
    _refused(damaged, kfold_run[0], tmp_path, "fold 0: checkpoints/best.pt is missing")


def test_a_deleted_fitted_preprocessing_is_named(
    kfold_run: tuple[Path, Path], damaged: Path, tmp_path: Path
) -> None:
    (damaged / "folds" / "fold-1" / "stages" / "data.json").unlink()
    _refused(damaged, kfold_run[0], tmp_path, "fold 1: stages/data.json (of its fitted")


def test_a_checkpoint_cut_short_is_named(
    kfold_run: tuple[Path, Path], damaged: Path, tmp_path: Path
) -> None:
    best = damaged / "folds" / "fold-1" / "checkpoints" / "best.pt"
    best.write_bytes(best.read_bytes()[: best.stat().st_size // 2])
    said = "fold 1: checkpoints/best.pt: not a readable checkpoint, cut short or damaged"
    _refused(damaged, kfold_run[0], tmp_path, said)  # before any conversion: no output folder


def test_checkpoint_errors_name_no_absolute_path(tmp_path: Path) -> None:
    from workflows.train.checkpoint import CheckpointError, checkpoint_name, load_checkpoint

    lost = tmp_path / "run" / "folds" / "fold-0" / "checkpoints" / "best.pt"
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(lost)
    assert str(err.value) == "fold-0/checkpoints/best.pt: no such checkpoint file."
    assert checkpoint_name(Path.cwd() / "runs" / "a" / "best.pt") == "runs/a/best.pt"
    assert checkpoint_name(Path("runs/a/best.pt")) == "runs/a/best.pt"
