"""``radpipe convert`` says a problem shared word for word by many series once, not once a
series: a CT window preset over an ultrasound archive was one identical line per series
(48 here, 2,000 for an archive of 2,000), burying every other line on stderr."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _radpipe(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workflows.cli", *args], cwd=cwd, capture_output=True,
        text=True, timeout=300, env={"PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_a_problem_of_every_series_is_said_for_three_then_counted(tmp_path: Path) -> None:
    made = _radpipe(tmp_path, "synth", "us", "--modality", "US", "--patients", "24")
    assert made.returncode == 0, made.stderr
    done = _radpipe(tmp_path, "convert", "us/dicom", "out", "--format", "png", "--window",
                    "lung", "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["series_key"] for r in rows}) == 48  # 24 patients x 2 series of one image
    assert all("HU preset" in r["problems"] for r in rows)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 4, warnings
    keys = sorted(r["series_key"] for r in rows)[:3]
    for line, key in zip(warnings, keys, strict=False):
        assert line.startswith(f"warning: series {key}: HU preset: window 'lung' "), line
    assert warnings[3].startswith("warning: 45 more series: HU preset: window 'lung' ")
    assert warnings[3].endswith("(listed in the manifest's problems column)")
