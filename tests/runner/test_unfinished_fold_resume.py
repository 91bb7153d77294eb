"""A fold whose training has not finished (or whose folder is gone) was refused with "finish
it with `radpipe run --resume RUN`", the literal placeholder, not the run. The command now
names the run's own folder: relative to the working directory below it, ``~/...`` below the
home folder, else ``.../NAME`` (no absolute local path in an error)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workflows.cli import main
from workflows.run.paths import resume_command


def test_an_unfinished_fold_names_the_run_to_resume(
    kfold_run: Path, cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    run = tmp_path / "my runs" / "cv"
    shutil.copytree(kfold_run, run)
    (run / "folds" / "fold-1" / "train_done.json").unlink()
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "my runs/cv", str(cr16 / "dicom"), "--out", "p", "--quiet"]) == 1
    assert capsys.readouterr().err == (
        "radpipe predict: error: fold 1: training has not finished (no train_done.json), so its "
        "checkpoints are not the run's model; finish it with `radpipe run --resume 'my runs/cv'`."
        "\n"
    )
    shutil.rmtree(run / "folds" / "fold-1")
    assert main(["predict", "my runs/cv", str(cr16 / "dicom"), "--out", "p", "--quiet"]) == 1
    assert capsys.readouterr().err.endswith(
        "train that fold again with `radpipe run --resume 'my runs/cv'`.\n"
    )


def test_outside_the_working_directory_the_home_is_not_spelt_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "ana"
    (home / "runs" / "cv").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert resume_command(home / "runs" / "cv") == "radpipe run --resume ~/runs/cv"
    assert resume_command(tmp_path / "elsewhere" / "r") == "radpipe run --resume r"
    assert resume_command(tmp_path / "data" / "r") == "radpipe run --resume ../data/r"
