"""A DICOM segmentation whose PNG masks do not count their classes from 0 without a gap (no
``data.class_names``) is refused before the run directory is made, exit 2, naming the CSV,
the values and the mask holding the highest: it was refused once the run directory had been
made (``The masks ... hold values [0, 1, 2, 7], not consecutive class indices``, exit 1,
no mask named). The masks of ``mr_seg`` hold 0 (background), 1 (organ) and 2 (lesion)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.runner.conftest import base_config, radpipe_in


def _run(study: Path, tmp: Path, change: dict[int, np.ndarray]) -> str:
    """``radpipe run`` of the study with the masks of rows ``change`` (0: the first row,
    line 2) replaced; exit 2, no run directory; its stderr."""
    with (study / "masks.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        row["mask"] = str(study / row["mask"])
        if i in change:
            Image.fromarray(change[i]).save(tmp / f"m{i}.png")
            row["mask"] = f"m{i}.png"
    with (tmp / "m.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    raw = base_config(study, Path("runs"), masks="m.csv")
    raw["data"]["allow_outside_paths"] = True
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}
    (tmp / "cfg.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(tmp, "run", "cfg.yaml", "--quiet", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert not (tmp / "runs").exists()
    return proc.stderr


def _read(study: Path, i: int) -> np.ndarray:
    with (study / "masks.csv").open(newline="") as fh:
        row = list(csv.DictReader(fh))[i]
    return np.array(Image.open(study / row["mask"]))


def test_a_class_beyond_a_gap_is_refused_before_the_run(mr_seg: Path, tmp_path: Path) -> None:
    mask = _read(mr_seg, 1).copy()
    mask[0, 0] = 7
    err = _run(mr_seg, tmp_path, {1: mask})
    assert (
        "data.masks: the masks named in m.csv hold values [0, 1, 2, 7], and none holds "
        "3, 4, 5, 6: not consecutive class indices 0..7 (nothing was converted)"
    ) in err
    assert "Value 7 is in m1.png (line 3): class 7" in err  # fmt: skip


def test_masks_labelled_from_1_are_refused_before_the_run(mr_seg: Path, tmp_path: Path) -> None:
    with (mr_seg / "masks.csv").open(newline="") as fh:
        n = len(list(csv.DictReader(fh)))
    err = _run(mr_seg, tmp_path, {i: _read(mr_seg, i) + 1 for i in range(n)})
    assert ("data.masks: no mask named in m.csv holds class 0 (background): their values are "
            "[1, 2, 3] (nothing was converted)") in err  # fmt: skip
