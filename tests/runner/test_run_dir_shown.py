"""``radpipe run`` named its run directory by the absolute local path when the working
directory was not above it (``run directory: /home/alice/proj/runs/x-1``, from a folder beside
the project), and "relative" to ``/`` from ``/`` (``tmp/.../runs/x-1``, the absolute path
without its first slash). It now names it relative to the working directory through ``..``
when the two share a folder other than ``/``, else by its last two folders, ``.../runs/NAME``
(below the home folder ``~/...``, as before for the resume advice): ``.../NAME`` alone, until
2026-12-04, dropped the folder the user had chosen for their runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.runner.conftest import base_config, radpipe_in


def test_run_from_a_folder_beside_the_project_names_the_run_through_dotdot(
    cr16: Path, tmp_path: Path
) -> None:
    project, beside = tmp_path / "proj", tmp_path / "beside"
    project.mkdir()
    beside.mkdir()
    raw = base_config(cr16, Path("runs"))  # relative: to the config file's folder
    raw["name"] = "cr"
    (project / "c.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(beside, "run", "../proj/c.yaml", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run,) = (p for p in (project / "runs").iterdir() if not p.name.startswith("."))
    assert f"run directory: ../proj/runs/{run.name}\n" in proc.stdout
    assert f"radpipe: run directory: ../proj/runs/{run.name}\n" in proc.stderr
    assert str(tmp_path.resolve()) not in proc.stdout + proc.stderr


def test_shown_from_the_root_folder_is_not_the_absolute_path_without_its_slash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.run.paths import said, shown

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir("/")
    run = tmp_path / "runs" / "a b-1"
    assert shown(run) == Path(".../runs/a b-1")
    assert said(run, quote=True) == ".../'runs/a b-1'"
    assert shown(tmp_path / "home" / "r") == Path("~/r")
    assert not re.search(r"tmp|pytest", str(shown(run)))
    assert shown(Path("/out")) == Path(".../out")  # one part below /: no more to give
    report = run / "ext" / "report.html"  # a file: its last two folders and its name
    report.parent.mkdir(parents=True)
    report.write_text("")
    assert said(report) == ".../a b-1/ext/report.html"
