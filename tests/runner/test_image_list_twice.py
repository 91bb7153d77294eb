"""An image listed twice in a ``data.kind: images`` list CSV.

The run kept the last row unsaid: another ``patient_id`` moved the image to that patient's
side of the split, another ``mask`` replaced its ground truth, and ``a.png`` / ``./a.png``
were two images (one picture in two parts of the split). Now rows that disagree are refused,
naming both lines and the columns (never a PatientID); rows that agree are used once, with a
warning naming both lines.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import RadpipeError
from workflows.run.config import validate_config
from workflows.run.image_list import read_image_list
from workflows.run.study import prepare_study


def _list(root: Path, extra: dict[str, Any]) -> Path:
    """Six PNGs of six patients (lines 2-7), then ``extra`` (line 8): a row naming ``a0.png``
    (line 2: label 0, patient p0, mask m0.png) again."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / f"a{i}.png")
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / f"m{i}.png")
        part = "test" if i in (4, 5) else "val" if i == 3 else "train"
        rows.append({"image": f"a{i}.png", "label": i % 2, "patient_id": f"p{i}",
                     "mask": f"m{i}.png", "part": part})  # fmt: skip
    rows.append({**rows[0], **extra})
    with (root / "list.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root / "list.csv"


def _prepare(root: Path, image_list: Path) -> Any:
    raw = {
        "task": "classification",
        "output": str(root / "runs"),
        "data": {"kind": "images", "source": str(root), "labels": str(image_list)},
        "split": {"column": "part"},
        "model": {"type": "mlp_classifier"},
        "train": {"monitor": "train_loss"},
    }
    (root / "run").mkdir()
    return prepare_study(validate_config(raw), root / "run", progress=False)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"patient_id": "p9"}, "list.csv lines 2 and 8 list 'a0.png' with different patient_id:"),
        ({"label": 1}, "list.csv lines 2 and 8 list 'a0.png' with different label ('0' then '1'):"),
        ({"image": "./a0.png", "patient_id": "p5"},
         "list.csv lines 2 and 8 list one file ('a0.png', './a0.png') with different "
         "patient_id:"),
        ({"mask": "m1.png", "part": "test"},
         "list.csv lines 2 and 8 list 'a0.png' with different mask ('m0.png' then 'm1.png'), "
         "part ('train' then 'test'):"),
    ],
    ids=["patient", "label", "spelled-two-ways", "mask-and-part"],
)  # fmt: skip
def test_two_rows_that_disagree_are_refused(
    tmp_path: Path, extra: dict[str, Any], said: str
) -> None:
    with pytest.raises(RadpipeError) as err:
        _prepare(tmp_path, _list(tmp_path, extra))
    assert str(err.value).startswith(said)
    assert "p0" not in str(err.value) and "p9" not in str(err.value)  # no PatientID shown


@pytest.mark.parametrize(
    ("extra", "spelled"),
    [({}, "'a0.png'"), ({"image": "sub/../a0.png", "label": " 0"}, "one file ('a0.png', "
                                                                  "'sub/../a0.png')")],
    ids=["identical", "spelled-two-ways"],
)  # fmt: skip
def test_two_rows_that_agree_are_used_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, extra: dict[str, Any], spelled: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        study = _prepare(tmp_path, _list(tmp_path, extra))
    assert len(study.split) == 6  # six images, not seven
    words = [r.getMessage() for r in caplog.records if "twice" in r.getMessage()]
    assert words == [f"list.csv lines 2 and 8 list {spelled} twice with the same values: used "
                     "once (line 2)."]  # fmt: skip


def test_an_empty_image_cell_names_its_line(tmp_path: Path) -> None:
    image_list = _list(tmp_path, {"image": " "})
    with pytest.raises(RadpipeError, match=r"^list.csv line 8: the image cell is empty"):
        read_image_list(image_list, tmp_path, ["label"])
