"""``radpipe run --resume RUN --set ...``: refused, saying where a resumed run's settings are."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.cli import main


def test_set_with_resume_names_the_runs_config_and_what_may_be_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "xray-20261203-1200"
    run.mkdir()
    assert main(["run", "--resume", str(run), "--set", "train.epochs=80"]) == 2
    err = capsys.readouterr().err
    # until 2026-12-03 it said "--set cannot change a run being resumed" and no more
    assert "(train.epochs=80)" in err
    assert "xray-20261203-1200/config.yaml" in err
    assert "evaluate, report, compute, train.progress" in err
    assert "start a new run" in err
    assert str(tmp_path) not in err  # the run's name, not its absolute path
