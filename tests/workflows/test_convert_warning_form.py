"""``radpipe convert``'s per-series geometry notes are ``warning: series KEY: ...`` lines, and
the README says so where it gives the form of warnings: it said only that a warning is a
``radpipe: warning: ...`` line, which convert's notes are not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pydicom.uid import generate_uid

from pipeline.keys import hash_key
from tests.pipeline.dicom import geometry_cases as G

ROOT = Path(__file__).resolve().parents[2]


def test_convert_prints_the_series_warning_in_the_readmes_form(tmp_path: Path) -> None:
    uid = generate_uid()
    files = [G.plane((0.0, 0.0, z), series=uid) for z in (0.0, 1.0, 3.0)]  # a gap at 2 mm
    src = G.save(tmp_path / "scans", files)
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "convert", str(src), str(tmp_path / "out"),
         "--format", "nifti", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(said) == 1 and said[0].startswith(f"warning: series {hash_key(uid)}: "), said
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert ("`radpipe convert`'s note on a series' geometry (a gap, a tilt, uneven spacing) is "
            "one `warning: series KEY: ...` line per series, without the `radpipe: ` "
            "prefix") in readme  # fmt: skip
