"""A ``data.label_column`` or ``split.column`` spelt otherwise than the CSV's column is refused
with the setting to write.

``--set data.label_column=Label`` over a CSV whose column is ``label`` was told "rename 'label'
to 'Label'": edit the CSV to match a typo in the config. ``split.column: Official`` over an
``official`` column got no hint at all. Both now lead with the setting; the expected words by
hand, through the command line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.runner.conftest import base_config, write_rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        (
            "data.label_column=Label",
            "data.label_column 'Label' is not a column of list.csv (columns: image, label, "
            "official) (set data.label_column: label, or rename the column 'label' to 'Label': "
            "column names are matched exactly)",
        ),
        (
            "split.column=Official",
            "split.column 'Official' is not a column of list.csv (columns: image, label, "
            "official) (set split.column: official, or rename the column 'official' to "
            "'Official': column names are matched exactly)",
        ),
    ],
    ids=["label_column", "split.column"],
)
def test_the_setting_to_write_is_named(tmp_path: Path, setting: str, said: str) -> None:
    images = {f"{i}.png": i % 2 for i in range(4)}
    for name, label in images.items():
        Image.fromarray(np.full((8, 8), 99 * label, np.uint8)).save(tmp_path / name)
    listed = write_rows(tmp_path / "list.csv", [
        {"image": name, "label": label, "official": "train"} for name, label in images.items()
    ])  # fmt: skip
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"] |= {"source": str(tmp_path), "labels": str(listed)}
    if setting.startswith("split."):
        del raw["split"]  # its fractions beside a split.column are refused
    (tmp_path / "c.yaml").write_text(json.dumps(raw))
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "run", str(tmp_path / "c.yaml"), "--set", setting],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr == f"radpipe run: config error: {said}\n"
    assert not (tmp_path / "runs").exists()
