"""A rerun of ``convert --per series`` keeps a series converted without a failed file.

The series whose repeated slice failed on its pixels (an undecodable JPEG stream: the header
reads) was converted again on every rerun, as if unfinished: the last run's ``errors.csv``
listed the file as an error, and only files skipped as no image counted as done. Now the
series is kept (its volume not rewritten: same inode and mtime), the left-out file is listed
again with the same reason, and the exit status stays 1. A file that fails on its header
(truncated) was kept already; both are checked. A change to the file left out for its pixels
converts the series again (its stat facts, as for any file of a kept series).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G
from tests.workflows.test_failed_repeats import _truncate, _undecodable
from workflows.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _rerun(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--format",
           "nifti"]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("damage", [_undecodable, _truncate], ids=["pixels", "header"])
def test_a_series_converted_without_a_failed_file_is_kept_on_rerun(
    tmp_path: Path, damage: object
) -> None:
    series = generate_uid()
    files = [G.plane((0.0, 0.0, 2.0 * k), value=100 * (k + 1), series=series) for k in range(4)]
    files.append(G.plane((0.0, 0.0, 4.0), value=300, series=series))  # repeats s2
    src = G.save(tmp_path / "in", files, ["s0", "s1", "s2", "s3", "x"])
    damage(src / "x.dcm")  # type: ignore[operator]
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    (row,) = _rows(out / "manifest.csv")
    errors = _rows(out / "errors.csv")
    assert [e["source"] for e in errors] == ["x.dcm"]
    assert errors[0]["reason"].endswith("(its series converted without it)")
    volume = out / row["output"]
    before = os.stat(volume)

    ran = _rerun(src, out)
    assert ran.returncode == 1, ran.stderr
    assert "(0 converted, 1 already done)" in ran.stdout
    after = os.stat(volume)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert _rows(out / "manifest.csv") == [row]
    assert _rows(out / "errors.csv") == errors

    if damage is _undecodable:  # the file left out changed: its series is converted again
        damage(src / "x.dcm")  # type: ignore[operator]
        assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
        assert os.stat(volume).st_mtime_ns != before.st_mtime_ns
        assert _rows(out / "errors.csv") == errors
