"""A classification over a ``data.kind: images`` list that also has a ``mask`` column (one
list for both tasks, as researchers keep them) trains on ``label`` and says the masks are not
used: its batches carried the masks and the run stopped once training began ("The model
outputs one score per class (4, 2), but the batch has masks (4, 16, 16)", exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.runner.conftest import base_config, radpipe_in


def test_a_classification_list_with_masks_trains_on_its_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = ["image,mask,label,patient_id"]
    for i in range(8):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
        mask = np.zeros((16, 16), np.uint8)
        mask[4:8, 4:8] = 1
        Image.fromarray(mask).save(tmp_path / f"m{i}.png")
        rows.append(f"{i}.png,m{i}.png,{i % 2},p{i}")
    (tmp_path / "l.csv").write_text("\n".join(rows) + "\n")
    raw = base_config(Path("."), Path("runs"), kind="images")
    raw["data"].update(source=".", labels="l.csv")
    (tmp_path / "cfg.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(tmp_path, "run", "cfg.yaml", "--quiet", "--threads", "1", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = ("radpipe: l.csv: its 'mask' column is not used: task 'classification' learns the "
            "'label' column (set task: segmentation to learn the masks)")  # fmt: skip
    assert said in proc.stderr
    (run,) = (tmp_path / "runs").glob("run-*")
    assert (run / "metrics.json").is_file()
