"""The convert summary says what was done: the series' geometry apart from the files' own
problems, and refusal counts that agree (run as a user runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.workflows.test_convert_header_window import SERIES, _ct

ROOT = Path(__file__).parents[2]


def _convert(src: Path, out: Path, *extra: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet",
           "--format", "npy", *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    return done.stdout.splitlines()


def test_geometry_and_file_problems_are_counted_apart(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for z in (0.0, 1.0, 3.0):  # one series with a slice missing at z = 2
        _ct(src / f"gap{int(z)}.dcm", z)
    other = f"{SERIES}.8"
    _ct(src / "a.dcm", 0.0, SeriesInstanceUID=other, SOPInstanceUID=f"{other}.1",
        WindowCenter=40, WindowWidth=0)  # fmt: skip
    _ct(src / "b.dcm", 1.0, SeriesInstanceUID=other, SOPInstanceUID=f"{other}.2")
    lines = _convert(src, tmp_path / "out")
    geometry = [x for x in lines if x.startswith("geometry: ")]
    assert geometry == [
        "geometry: 1 series with problems noted, images written as they are (uneven spacing 1); "
        "0 series refused (see the manifest's problems column and errors.csv)"
    ]
    assert [x for x in lines if x.startswith("files: ")] == [
        "files: 1 series with files' own problems noted, outputs written "
        "(WindowWidth 0 is not positive 1)"
    ]
    strict = _convert(src, tmp_path / "strict", "--strict")
    assert "strict: 4 files refused for their problems (errors.csv)" in strict
    assert not [x for x in strict if x.startswith(("geometry: ", "files: "))]
