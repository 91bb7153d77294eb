"""A file reached by two paths (a symbolic or hard link to a file in SRC) is one file: the
second path is skipped as it is found, and the image is no duplicate of itself (no
``duplicates`` problem, nothing refused under ``--strict``)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.workflows.test_convert_robust import _ct
from workflows.cli import main

SECOND = "a second path to a file already read (a symbolic or hard link): skipped"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _linked(tmp_path: Path, how: str) -> Path:
    src = tmp_path / "src"
    _ct(src / "a" / "f.dcm", 7)
    _ct(src / "a" / "h.dcm", 9, z=1.0)  # another image, of another series
    if how == "symlink":
        (src / "g.dcm").symlink_to(src / "a" / "f.dcm")
    else:
        os.link(src / "a" / "f.dcm", src / "g.dcm")
    return src


@pytest.mark.parametrize("how", ["symlink", "hardlink"])
@pytest.mark.parametrize("options", [["--format", "npy"], ["--format", "nifti"]],
                         ids=["per-instance", "per-series"])  # fmt: skip
def test_a_second_path_to_a_file_is_skipped_not_a_duplicate(
    tmp_path: Path, how: str, options: list[str]
) -> None:
    src, out = _linked(tmp_path, how), tmp_path / "out"
    # the link sorts first (files before subfolders), so it is the path converted
    assert main(["convert", str(src), str(out), "--quiet", "--strict", *options]) == 0
    rows = _rows(out / "manifest.csv")
    assert sorted(r["source"] for r in rows) == ["a/h.dcm", "g.dcm"]
    assert [r["problems"] for r in rows] == ["", ""]
    errors = _rows(out / "errors.csv")
    assert [(e["source"], e["reason"], e["kind"]) for e in errors] == [
        ("a/f.dcm", SECOND, "skipped")
    ]
    # a rerun resumes: the same rows, nothing converted again
    assert main(["convert", str(src), str(out), "--quiet", "--strict", *options]) == 0
    assert _rows(out / "manifest.csv") == rows
