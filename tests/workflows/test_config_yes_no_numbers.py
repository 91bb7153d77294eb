"""A yes/no value where the config wants a number is refused, naming the key.

PyYAML (YAML 1.1) reads true/false, yes/no and on/off as booleans and pydantic took them as 1
and 0: 'epochs: yes' trained one epoch, 'split.test: false' held out no test patients and
'seed: true' ran with seed 1, 'p: yes' flipped every image, each exit 0 without a word
('dropout: true' was refused as 'must be in [0, 1); got 1.0'). Numbers are unchanged.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAID = "a yes/no value to YAML (true/false, yes/no, on/off), not a number"


def _show(*sets: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "workflows.cli", "config", "show", "configs/xray_classify.yaml"]
    for s in sets:
        cmd += ["--set", s]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})  # fmt: skip


@pytest.mark.parametrize(
    ("override", "key"),
    [("seed=true", "seed"), ("train.epochs=yes", "train.epochs"), ("train.lr=on", "train.lr"),
     ("split.test=false", "split.test"), ("data.mask_values={0: 0, 255: yes}",
                                          "data.mask_values"),
     ("model.dropout=true", "model: mlp_classifier parameter 'dropout'"),
     ("model.hidden=[256, on]", "model: mlp_classifier parameter 'hidden'"),
     ("augment=[{type: random_flip, p: yes, axes: [-1]}]", "augment: item 0 (random_flip): 'p'")],
)  # fmt: skip
def test_a_yes_no_value_for_a_number_is_refused_naming_the_key(override: str, key: str) -> None:
    done = _show(override)
    assert done.returncode != 0
    assert f"--set {override}: {key}: " in done.stderr and SAID in done.stderr, done.stderr


def test_numbers_and_yes_no_keys_are_read_as_before() -> None:
    done = _show("seed=7", "split.test=0", "evaluate.tta_flip=yes")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "seed: 7" in lines and "  test: 0.0" in lines and "  tta_flip: true" in lines
