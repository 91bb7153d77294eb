"""``radpipe convert`` of a SRC that holds no file refuses before it writes anything.

It made OUT with a manifest, ``errors.csv``, ``convert.json`` and a lock, then said "No file
found" (exit 1); and a SRC emptied since an earlier conversion into OUT (a network share not
mounted, a mistyped copy) removed every output of that conversion as "no longer listed in the
manifest", exit 0. Through the command line, from the folder holding SRC and OUT.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.pipeline.dicom.builders import ct_series
from tests.runner.conftest import radpipe_in


def test_an_emptied_source_leaves_the_earlier_outputs_alone(tmp_path: Path) -> None:
    ct_series(tmp_path / "src", [[0], [10]])
    first = radpipe_in(tmp_path, "convert", "src", "out", "--format", "npy", "--quiet")
    assert first.returncode == 0, first.stderr
    before = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*"))
    assert len([p for p in before if p.suffix == ".npy"]) == 2
    shutil.rmtree(tmp_path / "src")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / ".DS_Store").write_bytes(b"\0")  # hidden: not read
    again = radpipe_in(tmp_path, "convert", "src", "out", "--format", "npy", "--quiet")
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr == (
        "radpipe convert: no file found in src (an empty folder? hidden files and radpipe's "
        "output folders are not read); nothing was written\n"
    )
    assert sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*")) == before
