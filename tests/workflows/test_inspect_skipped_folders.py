"""``radpipe inspect`` counted a folder it does not read as a file.

A hidden folder (``.git``) beside two CT slices gave ``3 files, 2 images ...`` and ``1 file
skipped (not images): .git: hidden folder ...`` (and ``"files": 3`` in ``--json``), where
``convert`` counts such folders apart; a SRC holding only a hidden folder said ``1 file, 0
images`` and exited 0. The expected lines by hand, through the command line from SRC's folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.pipeline.dicom.builders import ct_series
from tests.runner.conftest import radpipe_in


def test_a_hidden_folder_is_counted_as_a_folder_not_read(tmp_path: Path) -> None:
    src = ct_series(tmp_path / "src", [[0], [10]])
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    proc = radpipe_in(tmp_path, "inspect", "src")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "2 files, 2 images in 1 series of 1 patient"
    assert lines[-2:] == [
        "1 folder not read (hidden, reached again through a link, or an output folder of radpipe):",
        "  .git: hidden folder (name starts with '.'): not read, skipped",
    ]
    assert "skipped (not images)" not in proc.stdout
    as_json = radpipe_in(tmp_path, "inspect", "src", "--json")
    assert json.loads(as_json.stdout)["files"] == 2


def test_a_folder_holding_only_a_hidden_folder_has_no_file(tmp_path: Path) -> None:
    (tmp_path / "src" / ".git").mkdir(parents=True)
    (tmp_path / "src" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    proc = radpipe_in(tmp_path, "inspect", "src")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == "0 files, 0 images in 0 series of 0 patients"
    assert proc.stderr.startswith("radpipe inspect: no file found in src (an empty folder?")
