"""``inspect`` and ``convert`` agree on a series split by SeriesNumber: said, exit 0.

One SeriesInstanceUID holding two SeriesNumbers of 3 slices each (edited or merged exports):
``convert`` writes one volume each and exits 0, with the split in the manifest's ``problems``;
``inspect`` said the same split and exited 1, as for a failure. Both are run as a user runs
them (a subprocess). A split across SeriesInstanceUIDs (one slice position each, which
``convert`` writes as one-slice volumes) still exits 1.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G

ROOT = Path(__file__).resolve().parents[2]
SPLIT = "split: 2 SeriesNumber values in one SeriesInstanceUID (edited or merged exports), one volume each"  # noqa: E501


def _radpipe(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "workflows.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_a_series_number_split_is_a_note_in_both(tmp_path: Path) -> None:
    series = generate_uid()
    files = [G.plane((0.0, 0.0, 2.0 * k), value=10 * n, series=series, SeriesNumber=n)
             for n in (1, 2) for k in range(3)]  # fmt: skip
    src = G.save(tmp_path / "in", files, [f"n{n}_{k}" for n in (1, 2) for k in range(3)])
    inspected = _radpipe("inspect", str(src))
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    assert f"! {SPLIT}" in inspected.stdout
    converted = _radpipe("convert", str(src), str(tmp_path / "out"), "--format", "nifti")
    assert converted.returncode == 0, converted.stderr
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["num_slices"] for r in rows] == ["3", "3"]
    assert all(SPLIT in r["problems"] for r in rows)


def test_a_split_across_uids_still_exits_1(tmp_path: Path) -> None:
    """Three one-slice series of one SeriesNumber (Canon's classic 4-D export)."""
    files = [G.plane((0.0, 0.0, 2.0 * k), series=generate_uid(), SeriesNumber=5) for k in range(3)]
    inspected = _radpipe("inspect", str(G.save(tmp_path / "in", files, ["a", "b", "c"])))
    assert inspected.returncode == 1
    assert "! split across SeriesInstanceUIDs: one of 3 series" in inspected.stdout
