"""One class name given to two class indices is refused before anything is trained.

A list whose ``class_name`` column says ``benign`` for label 1 and, on one slipped row, for
label 2 trained a 3-class model: ``classes.json`` held ``malignant, benign, benign``, the
report and predictions named two classes ``benign``, the run exited 0, and the only word was
"labels 'benign' and 'benign' ... differ only in letter case or spacing" (they do not).
``data.class_names`` listing a name twice was accepted too (a label naming it took the
last index).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.runner.conftest import radpipe_in as _cli


def _study(tmp_path: Path, slipped: bool) -> None:
    rng = np.random.default_rng(0)
    (tmp_path / "img").mkdir()
    lines = ["image,label,class_name"]
    for i in range(12):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(
            tmp_path / "img" / f"{i}.png"
        )
        label = i % 2
        if slipped and i == 4:  # line 6 of the file: a 2 typed for a 1
            label = 2
        lines.append(f"img/{i}.png,{label},{'benign' if label else 'malignant'}")
    (tmp_path / "list.csv").write_text("\n".join(lines) + "\n")
    config = {
        "task": "classification", "output": "runs",
        "data": {"kind": "images", "source": ".", "labels": "list.csv"},
        "split": {"test": 0.25, "val": 0.25},
        "model": {"type": "mlp_classifier", "hidden": [4]},
        "train": {"epochs": 1, "batch_size": 4, "device": "cpu"},
        "report": {"enabled": False}, "evaluate": {"bootstrap": 0, "explain": 0},
    }  # fmt: skip
    (tmp_path / "c.yaml").write_text(json.dumps(config))


def test_one_name_for_two_indices_is_refused_naming_the_lines(tmp_path: Path) -> None:
    _study(tmp_path, slipped=True)
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet")
    # a refusal of the config's table, before anything is written (until 2026-12-03 the run
    # directory was made, announced and removed again, exit 1)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(
        "radpipe run: config error: list.csv: column 'class_name' gives one name to several "
        "class indices in column 'label': 'benign' to 1 (line 3) and 2 (line 6). Each index "
        "is a class of its own"
    ), proc.stderr
    assert not (tmp_path / "runs").exists()


def test_the_same_list_without_the_slip_trains_two_classes(tmp_path: Path) -> None:
    _study(tmp_path, slipped=False)
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet")
    assert proc.returncode == 0, proc.stderr
    (classes,) = (tmp_path / "runs").glob("*/classes.json")
    assert json.loads(classes.read_text())["class_names"] == ["malignant", "benign"]


def test_class_names_listed_twice_is_a_config_error(tmp_path: Path) -> None:
    _study(tmp_path, slipped=False)
    proc = _cli(tmp_path, "config", "show", "c.yaml", "--set", "data.class_names=[a,b,a]")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().endswith(
        "data: class_names lists 'a' more than once; each class needs its own name"
    )


def _relabel(tmp_path: Path, labels: list[int]) -> None:
    """The study's list with these labels, one per image, and no class_name column."""
    rows = (tmp_path / "list.csv").read_text().splitlines()[1:]
    body = [f"{r.split(',')[0]},{label}" for r, label in zip(rows, labels)]
    (tmp_path / "list.csv").write_text("\n".join(["image,label", *body]) + "\n")


@pytest.mark.parametrize(
    ("labels", "said"),
    [
        ([1, 2] * 6, "list.csv column 'label' holds the class indices 1, 2 and no 0: index 0 "
         "would be a class ('0') without a single labelled image, and the model would have 3 "
         "outputs."),
        ([0, 2] * 6, "holds the class indices 0, 2 and no 1: index 1 would be a class ('1')"),
    ],
    ids=["counted-from-1", "gap"],
)  # fmt: skip
def test_skipped_class_indices_are_refused_before_training(
    tmp_path: Path, labels: list[int], said: str
) -> None:
    """Labels 1 and 2 trained a 3-class model (class '0' empty), scored as 3 classes, exit 0."""
    _study(tmp_path, slipped=False)
    _relabel(tmp_path, labels)
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet")
    assert proc.returncode == 2, proc.stderr  # a config error, nothing written (was exit 1)
    assert said in proc.stderr and "config error: " in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_class_names_allow_an_empty_class_on_purpose(tmp_path: Path) -> None:
    _study(tmp_path, slipped=False)
    _relabel(tmp_path, [0, 2] * 6)
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet", "--set", "data.class_names=[a,b,c]")
    assert proc.returncode == 0, proc.stderr
    (classes,) = (tmp_path / "runs").glob("*/classes.json")
    assert json.loads(classes.read_text())["class_names"] == ["a", "b", "c"]
