"""An output path of the wrong kind (a file given as convert's OUT, a folder as inspect's
--index) is a usage error naming the path and what to give (exit 2); it was a traceback
(FileExistsError, IsADirectoryError: the latter naming radpipe's temporary file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main


def test_output_paths_of_the_wrong_kind_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_study(tmp_path / "s", StudySpec(patients=1, modality="CR", size=16,
                                          series_per_patient=1))  # fmt: skip
    (tmp_path / "notes.txt").write_text("a file\n")
    monkeypatch.chdir(tmp_path)  # paths are shown relative to the working directory
    assert main(["convert", "s/dicom", "notes.txt", "--quiet"]) == 2
    assert capsys.readouterr().err == (
        "radpipe convert: error: notes.txt: File exists; it is a file, not a folder: give a "
        "folder as the output and run it again\n"
    )
    assert main(["inspect", "s/dicom", "--index", "s"]) == 2
    assert capsys.readouterr().err == (
        "radpipe inspect: error: s: Is a directory; it is a folder: give a file name and run "
        "it again\n"
    )


def test_paths_said_on_the_terminal_hold_no_absolute_local_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``radpipe run`` prints to resume a run (after Ctrl-C, SIGTERM, an error): below
    the working directory relative to it, else below the home folder as ``~/...``, else
    relative through ``..`` (a folder other than ``/`` shared), else ``.../NAME``; quoted for
    a shell."""
    from workflows.run.paths import resume_command, said

    (tmp_path / "home").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "cwd")
    assert resume_command(tmp_path / "cwd" / "runs" / "a b") == "radpipe run --resume 'runs/a b'"
    assert resume_command(tmp_path / "home" / "r" / "x", nproc=2) == (
        "radpipe run --nproc 2 --resume ~/r/x"
    )
    failed = tmp_path / "elsewhere" / "run-1" / "failed.json"
    assert said(failed) == "../elsewhere/run-1/failed.json"
    assert resume_command(tmp_path / "elsewhere" / "run-1") == (
        "radpipe run --resume ../elsewhere/run-1"
    )
