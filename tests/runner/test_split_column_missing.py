"""A ``split.column`` that is no column of the labels CSV is a configuration error found
before the run starts (exit 2), as a ``data.label_column`` that is none is; it was found
once the data were read, with exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.runner.conftest import base_config, write_rows

ROOT = Path(__file__).resolve().parents[2]


def test_a_split_column_not_in_the_labels_csv_is_a_config_error(tmp_path: Path) -> None:
    rows = []
    for i in range(4):
        Image.fromarray(np.full((8, 8), 20 * i, np.uint8)).save(tmp_path / f"{i}.png")
        rows.append({"image": f"{i}.png", "label": i % 2, "part": "train"})
    write_rows(tmp_path / "list.csv", rows)
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(tmp_path / "list.csv"))
    raw["split"] = {"column": "Part"}  # the CSV's is 'part'
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(raw))
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", "run", str(config), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert (
        "config error: split.column 'Part' is not a column of list.csv (columns: image, "
        "label, part)"
    ) in proc.stderr
    assert not (tmp_path / "runs").exists()  # refused before a run directory is made
