"""``radpipe convert`` counts the folders it does not read apart from the files it skips.

A hidden folder (``.git``) and OUT inside SRC are listed in ``errors.csv`` as skipped, and the
summary counted them as "2 files skipped: not images, copies of another file or duplicate
slices": neither a file nor any of those. The expected lines by hand, through the command line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.pipeline.dicom.builders import ct_series

ROOT = Path(__file__).resolve().parents[2]


def _convert(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``radpipe convert SRC OUT`` from SRC's parent folder, SRC and OUT given absolute."""
    return subprocess.run(
        [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet"],
        cwd=src.parent, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_folders_not_read_are_counted_as_folders(tmp_path: Path) -> None:
    src = ct_series(tmp_path / "src", [[0], [10]])
    (src / ".git").mkdir()
    shutil.copy(src / "s0.dcm", src / "s0_again.dcm")  # a copy: a skipped file
    proc = _convert(src, src / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = "src/out/errors.csv"  # relative to the working directory, not absolute
    said = ("1 file skipped: not images, copies of another file or duplicate slices; 2 "
            "folders not read: hidden, reached again through a link, or an output folder of "
            f"radpipe (listed in {errors} with kind 'skipped')")  # fmt: skip
    assert said in proc.stdout.splitlines(), proc.stdout
