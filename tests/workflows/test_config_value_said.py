"""A config value of the wrong type was refused without the value: ``train.epochs: Input should
be a valid integer, unable to parse string as an integer``, leaving the user to find which of
the file's or the ``--set``'s values it meant. The value given is now named, as a bad
parameter's message names it (``...; got 'four'``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runner.conftest import radpipe_in

CONFIG = "task: classification\ndata: {source: scans}\nmodel: {type: mlp_classifier}\n"


@pytest.mark.parametrize(("line", "said"), [
    ("train: {epochs: four}", "train.epochs: Input should be a valid integer, unable to parse "
                              "string as an integer; got 'four'"),
    ("train: {amp: maybe}", "train.amp: Input should be a valid boolean, unable to interpret "
                            "input; got 'maybe'"),
], ids=["int", "bool"])  # fmt: skip
def test_a_value_of_the_wrong_type_is_named(tmp_path: Path, line: str, said: str) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG + line + "\n")
    proc = radpipe_in(tmp_path, "config", "show", "c.yaml")
    assert proc.returncode == 2
    assert proc.stderr == f"radpipe config: config error: c.yaml: {said}\n"


def test_a_set_value_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG)
    proc = radpipe_in(tmp_path, "config", "show", "c.yaml", "--set", "train.lr=abc")
    assert proc.returncode == 2
    assert proc.stderr.rstrip().endswith("train.lr: Input should be a valid number, unable to "
                                         "parse string as a number; got 'abc'")  # fmt: skip
