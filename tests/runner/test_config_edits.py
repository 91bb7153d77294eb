"""A run's ``config.yaml`` edited between the run and its resume (or a predict / evaluate),
as a user meets it: ``radpipe run --resume`` takes the run's saved config and refuses
``--set``, so editing the file is the way round. A setting the run's split, conversion, fitted
stages or checkpoints were made with is refused, naming the key and both values (exit 2,
nothing changed); one read only after training (``evaluate.*``) is used and said once. Until
2026-12-02 either was taken silently (a run killed before its first checkpoint trained again
with an edited ``train.lr`` beside the stages fitted for the old preprocessing)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def edited(cr_run: Path) -> Iterator[Path]:
    """A copy of the finished run beside it (its relative paths still hold)."""
    copy = cr_run.parent / f"{cr_run.name}-edited"
    shutil.copytree(cr_run, copy)
    yield copy
    shutil.rmtree(copy)


def _edit(run: Path, section: str, key: str, value: object) -> None:
    path = run / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw[section][key] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflows.cli", *args, "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_the_run_records_the_config_it_started_with(cr_run: Path) -> None:
    recorded = json.loads((cr_run / "provenance.json").read_text())["config"]
    assert recorded == yaml.safe_load((cr_run / "config.yaml").read_text())
    assert recorded["train"]["lr"] == 0.001


def test_an_edited_training_setting_refuses_the_resume(edited: Path) -> None:
    _edit(edited, "train", "lr", 0.1)
    before = {p.name: p.stat().st_mtime_ns for p in edited.iterdir()}
    proc = _cli("run", "--resume", str(edited))
    assert proc.returncode == 2, proc.stderr
    assert "config.yaml was edited since the run started (train.lr 0.001 -> 0.1)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert {p.name: p.stat().st_mtime_ns for p in edited.iterdir()} == before  # nothing done


def test_an_edited_preprocessing_refuses_predict(edited: Path, cr16: Path, tmp_path: Path) -> None:
    _edit(edited, "preprocess", 0, {"type": "z_score", "mode": "image"})
    proc = _cli("predict", str(edited), str(cr16 / "dicom"), "--out", str(tmp_path / "p"))
    assert proc.returncode == 2, proc.stderr
    assert "(preprocess.0.mode 'dataset' -> 'image')" in proc.stderr
    assert not (tmp_path / "p").exists()


def test_an_edited_evaluation_setting_is_used_and_said(
    edited: Path, cr16: Path, tmp_path: Path
) -> None:
    _edit(edited, "evaluate", "bootstrap", 50)
    labels = str(cr16 / "labels.csv")
    proc = _cli("evaluate", str(edited), str(cr16 / "dicom"), "--labels", labels,
                "--out", str(tmp_path / "ev"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = "config.yaml was edited since the run started: evaluate.bootstrap 0 -> 50; used"
    assert proc.stderr.count(said) == 1, proc.stderr
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["intervals"]["accuracy"]["n_resamples"] == 50


def test_a_resume_says_which_logged_epochs_are_trained_again(edited: Path) -> None:
    """A run killed outright (kill -9) before its first checkpoint (written at most every
    train.checkpoint_interval_s, 60 s) has epochs in log.jsonl and no last.pt: its resume
    trains from epoch 1, which it did without a word."""
    for name in ("train_done.json", "checkpoints/last.pt", "checkpoints/best.pt", "metrics.json"):
        (edited / name).unlink()
    assert len((edited / "log.jsonl").read_text().splitlines()) == 1
    proc = _cli("run", "--resume", str(edited))
    assert proc.returncode == 0, proc.stderr
    said = ("log.jsonl held epochs 1-1 of an earlier training with no checkpoint to continue "
            "from: training starts again from epoch 1")  # fmt: skip
    assert said in proc.stderr
    assert len((edited / "log.jsonl").read_text().splitlines()) == 1  # not appended twice


def test_epochs_after_the_last_checkpoint_are_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from workflows.train.epoch import restart_log

    log = tmp_path / "fold-1" / "log.jsonl"
    log.parent.mkdir()
    log.write_text("".join(json.dumps({"epoch": e, "train_loss": 1.0}) + "\n" for e in (1, 2, 3)))
    with caplog.at_level("WARNING", logger="radpipe"):
        kept = restart_log(log, 1)
    assert [r["epoch"] for r in kept] == [1]
    assert "fold-1: epochs 2-3 of the stopped run came after its last checkpoint (last.pt, " \
           "epoch 1); they are trained again" in caplog.text  # fmt: skip
    caplog.clear()
    with caplog.at_level("WARNING", logger="radpipe"):
        restart_log(log, 1)  # nothing dropped: nothing said
    assert caplog.text == ""
