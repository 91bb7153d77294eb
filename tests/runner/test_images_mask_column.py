"""A classification over a ``data.kind: images`` list that also has a ``mask`` column (one
list for both tasks, as researchers keep them) trains on ``label`` and says the masks are not
used: its batches carried the masks and the run stopped once training began ("The model
outputs one score per class (4, 2), but the batch has masks (4, 16, 16)", exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
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


def test_a_classification_list_s_masks_are_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks before the run read the ``mask`` column the run leaves out: a missing mask,
    one of another size, one of grey levels and one outside ``data.source`` refused a
    classification (exit 2) whose run never reads them. A segmentation still refuses each."""
    from pipeline.errors import ConfigError
    from workflows.run.checks import check_inputs
    from workflows.run.config import validate_config

    rng = np.random.default_rng(0)
    rows = ["image,mask,label,patient_id"]
    masks = {1: np.zeros((8, 8), np.uint8), 2: np.arange(256, dtype=np.uint8).reshape(16, 16)}
    cells = {3: "gone.png", 4: "../outside.png"}
    for i in range(8):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
        mask = np.zeros((16, 16), np.uint8)
        mask[4:8, 4:8] = 1
        Image.fromarray(masks.get(i, mask)).save(tmp_path / f"m{i}.png")
        rows.append(f"{i}.png,{cells.get(i, f'm{i}.png')},{i % 2},p{i}")
    (tmp_path / "l.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    raw = base_config(Path("."), Path("runs"), kind="images")
    raw["data"].update(source=".", labels="l.csv")
    check_inputs(validate_config(raw))  # it listed the four masks
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}
    with pytest.raises(ConfigError) as err:
        check_inputs(validate_config(raw))
    for said in ("(../outside.png)", "gone.png (line 5)", "m1.png is 8x8", "m2.png (line 4)"):
        assert said in str(err.value)
