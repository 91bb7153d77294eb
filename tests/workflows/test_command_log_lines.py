"""Every command's log lines reach the terminal as ``radpipe: ...``.

Until 2026-12-03 only ``radpipe run`` and ``demo`` gave the ``radpipe`` logger its terminal
handler: ``predict``, ``evaluate`` and ``convert`` dropped their info lines (``evaluate``'s
"N test images ... BurnedInAnnotation YES: left out of the report's figures", ``predict``'s
"the run's own images are gone ...") and printed their warnings through Python's last-resort
handler, without the ``radpipe:`` of every other line. Run as a user runs the command: in a
fresh process, whose logger no earlier test has set up.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.runner import run_study

ROOT = Path(__file__).resolve().parents[2]


def _pngs(folder: Path, n: int, seed: int) -> list[dict[str, object]]:
    """``n`` 8x8 grey PNGs, class 1 brighter; their list rows (paths relative to the parent)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    rows: list[dict[str, object]] = []
    for i in range(n):
        label = i % 2
        image = (rng.random((8, 8)) * 60 + 40 + 100 * label).astype(np.uint8)
        Image.fromarray(image).save(folder / f"i{i}.png")
        rows.append({"image": f"{folder.name}/i{i}.png", "label": label})
    return rows


def _train(tmp: Path) -> Path:
    src = tmp / "train"
    rows = _pngs(src / "img", 12, 0)
    with (src / "list.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["image", "label"])
        writer.writeheader()
        writer.writerows(rows)
    raw = base_config(src, tmp / "runs")
    raw["data"] = {"kind": "images", "source": str(src), "labels": str(src / "list.csv")}
    raw["model"]["hidden"], raw["train"]["batch_size"] = [4], 4
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    return outcome.run_dir


def test_predict_says_its_info_line_on_the_terminal(tmp_path: Path) -> None:
    run = _train(tmp_path)
    shutil.rmtree(tmp_path / "train")  # the run's own images: gone, which predict says
    _pngs(tmp_path / "new", 2, 1)
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "predict", str(run), str(tmp_path / "new"),
         "--out", str(tmp_path / "out"), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert ("radpipe: the run's own images are gone: whether SRC holds some of them is not "
            "known") in lines  # fmt: skip
