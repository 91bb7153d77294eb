"""Converting an ordinary series imports no ``scipy.optimize`` (0.3-3 s of CPU at every
start and in every worker): the minimax grid of positions written to 0.1 mm
(:mod:`pipeline.dicom.rounding`) imports it only when a stack needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.pipeline.dicom.geometry_cases import CT, plane, save

SCRIPT = """
import sys
from workflows.cli import main
rc = main(["convert", sys.argv[1], sys.argv[2], "--format", "nifti", "--quiet"])
print("rc", rc, "optimize", "scipy.optimize" in sys.modules)
"""


def _convert(tmp_path: Path, step: float) -> list[str]:
    src = save(tmp_path / f"src{step}", [plane((0.0, 0.0, k * step), series="1.2.3.9",
                                               sop_class=CT) for k in range(5)])  # fmt: skip
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(src), str(tmp_path / f"out{step}")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    return done.stdout.splitlines()[-1].split()


def test_an_ordinary_series_converts_without_scipy_optimize(tmp_path: Path) -> None:
    assert _convert(tmp_path, 2.5) == ["rc", "0", "optimize", "False"]


def test_positions_written_to_a_tenth_fit_their_grid_with_it(tmp_path: Path) -> None:
    # 0.625 mm written to 0.1 mm (0, 0.6, 1.2, 1.9, 2.5): the control, the module is used
    src = save(tmp_path / "src", [plane((0.0, 0.0, round(k * 0.625, 1)), series="1.2.3.9",
                                        sop_class=CT) for k in range(5)])  # fmt: skip
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(src), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.stdout.splitlines()[-1].split() == ["rc", "0", "optimize", "True"], done.stderr
