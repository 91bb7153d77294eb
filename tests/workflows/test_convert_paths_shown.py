"""``radpipe convert`` and ``radpipe synth`` given absolute folders echoed them: ``manifest:
/home/alice/study/out/manifest.csv``, ``see /home/alice/.../errors.csv``, ``wrote ... to
/home/alice/study/S`` (the user's folders on the terminal and in saved logs), where ``predict``,
``evaluate`` and ``report`` name their outputs relative to the working directory. Through the
command line, from the folder holding SRC and OUT."""

from __future__ import annotations

from pathlib import Path

from tests.pipeline.dicom.builders import ct_series
from tests.runner.conftest import radpipe_in


def test_convert_names_its_files_relative_to_the_working_directory(tmp_path: Path) -> None:
    src = ct_series(tmp_path / "src", [[0], [10]])
    (src / "notes.txt").write_text("hello")  # a failed file: errors.csv named
    (src / ".git").mkdir()  # a folder not read: errors.csv named again
    here = tmp_path.resolve()
    proc = radpipe_in(tmp_path, "convert", str(here / "src"), str(here / "out"), "--quiet")
    assert proc.returncode == 1, proc.stderr
    assert "s; manifest: out/manifest.csv\n" in proc.stdout
    assert "(listed in out/errors.csv with kind 'skipped')\n" in proc.stdout
    assert "1 file failed; see out/errors.csv:\n" in proc.stderr
    assert str(here) not in proc.stdout + proc.stderr


def test_synth_names_its_folder_relative_to_the_working_directory(tmp_path: Path) -> None:
    here = tmp_path.resolve()
    proc = radpipe_in(tmp_path, "synth", str(here / "S"), "--patients", "1", "--modality", "CR")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "wrote 2 DICOM files in 2 series of 1 patient to S\n"


def test_an_empty_source_given_absolute_is_named_relative(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    here = tmp_path.resolve()
    proc = radpipe_in(tmp_path, "convert", str(here / "empty"), str(here / "out"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("radpipe convert: no file found in empty (an empty folder?")
