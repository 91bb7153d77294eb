"""``radpipe evaluate`` of an images run on the run's own test split, one image of which is a
byte copy of a training image, through the command line as a user runs it.

It printed "4 external test cases" and "NOT an external test set: the run's checkpoint on an
external test set (4 images); ..." (both lines calling the set external), and repeated the run's
own warning that files are byte-identical across its split (a statement about the run's split,
made again by reading the run's own study for its validation split). Now both lines say the set
is not external, and the copies across the run's split are said by ``radpipe run`` alone.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PARTS = ["train"] * 8 + ["val"] * 4 + ["test"] * 4


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflows.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["image", "label", "part"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """A run on 16 8x8 PNGs split by a ``part`` column; test image ``img/t12.png`` is a byte
    copy of training image ``img/t0.png``. Returns the run, its data folder and ``run``'s
    process."""
    tmp = tmp_path_factory.mktemp("own_split")
    src, rng = tmp / "data", np.random.default_rng(0)
    (src / "img").mkdir(parents=True)
    rows: list[dict[str, object]] = []
    for i, part in enumerate(PARTS):
        label = i % 2
        image = (rng.random((8, 8)) * 60 + 40 + 100 * label).astype(np.uint8)
        Image.fromarray(image).save(src / "img" / f"t{i}.png")
        rows.append({"image": f"img/t{i}.png", "label": label, "part": part})
    (src / "img" / "t12.png").write_bytes((src / "img" / "t0.png").read_bytes())  # both label 0
    _write(src / "list.csv", rows)
    _write(src / "test.csv", [r for r in rows if r["part"] == "test"])
    raw = {
        "name": "own", "task": "classification", "output": str(tmp / "runs"),
        "data": {"kind": "images", "source": str(src), "labels": str(src / "list.csv")},
        "split": {"column": "part"},
        "model": {"type": "mlp_classifier", "hidden": [4]},
        "train": {"epochs": 1, "batch_size": 8, "device": "cpu"},
        "report": {"enabled": False},
        "evaluate": {"bootstrap": 0, "explain": 0},
    }  # fmt: skip
    (tmp / "own.yaml").write_text(json.dumps(raw))
    proc = _cli("run", tmp / "own.yaml", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return next((tmp / "runs").glob("*/metrics.json")).parent, src, proc


def test_evaluate_on_the_runs_test_split_says_it_is_not_external_and_once(
    run: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    folder, src, trained = run
    copies = "2 image files are byte-identical to files in another part of the split"
    assert copies in trained.stderr  # the run says it of its split
    proc = _cli("evaluate", folder, src, "--labels", src / "test.csv", "--out", tmp_path / "e",
                "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("4 test cases (1 from the run's own training/validation split: "
                               "see the warning above): accuracy ")  # fmt: skip
    assert "external" not in proc.stdout  # said once, by the warning: not three times
    said = (
        "SRC is not an external test set for this run: 1 of the 4 images was in the run's "
        "own training/validation split (the same file contents); its figures overstate"
    )
    assert said in proc.stderr
    said_all = (proc.stdout + proc.stderr).lower()
    assert said_all.count("not external") + said_all.count("not an external") == 1
    assert "byte-identical" not in proc.stderr
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert metrics["evaluated"] == (  # metrics.json and the report still say it
        "the run's checkpoint on 4 images, NOT an external test set: 1 of the 4 images was "
        "in the run's own training/validation split (the same file contents)"
    )
    assert metrics["seen_by_run"]["series_seen_in_training"] == 1
