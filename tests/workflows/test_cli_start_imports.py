"""``radpipe --help`` (and every command, before it starts its work) builds the whole parser:
that imports no numpy, pydicom, scipy or torch, so help and usage errors answer at once.
Until 2026-12-04 ``radpipe convert``'s parser module imported ``pipeline.dicom.notes`` at its
top, and with it ``pipeline.dicom``'s package (pydicom, numpy, scipy.spatial): ``--help``
took 1.2 s quiet, 2.4 s on a loaded machine, against 0.3 s without them."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from workflows.cli import build_parser
build_parser()
print(sorted(m for m in ("numpy", "pydicom", "scipy", "torch") if m in sys.modules))
"""


def test_building_the_parser_imports_no_heavy_library() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
