"""A config that is not valid YAML is refused naming the file as given, the line and column
and the problem (PyYAML's own text said ``in "<unicode string>"``), and a ``--set`` value
that is not valid YAML is refused naming the override (it was a traceback, exit 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from workflows.run.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def _refused(tmp_path: Path, text: str) -> str:
    """``radpipe run c.yaml`` of ``text`` in ``tmp_path``: exit 2; its stderr, stripped."""
    (tmp_path / "c.yaml").write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "run", "c.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    return proc.stderr.strip()


def test_a_broken_config_file_is_named_with_line_and_column(tmp_path: Path) -> None:
    assert _refused(tmp_path, "name: x\ndata:\n  source: [a\n  b: c\n") == (
        "radpipe run: config error: c.yaml: not valid YAML: line 4, column 4: expected ',' "
        "or ']', but got ':' (while parsing a flow sequence from line 3)"
    )


def test_an_override_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: x\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, ["data.source=[a"])
    assert str(info.value).startswith(
        "--set data.source=[a: the value is not valid YAML (line 1, column 3: expected ',' or"
    )
    assert "unicode string" not in str(info.value)


def test_a_section_written_twice_is_refused_not_replaced(tmp_path: Path) -> None:
    # PyYAML keeps the last: the second `train:` dropped lr and optimizer unsaid
    path = tmp_path / "c.yaml"
    path.write_text("name: x\ntrain:\n  lr: 0.5\n  optimizer: sgd\nseed: 1\ntrain:\n  epochs: 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: not valid YAML: line 6, column 1: the key 'train' is written again (first "
        "on line 2); YAML would keep only the last: merge them into one"
    )
    path.write_text("name: x\nbase: &b {lr: 0.5, epochs: 9}\ntrain:\n  <<: *b\n  epochs: 2\n")
    with pytest.raises(ConfigError, match="base: unknown key"):  # a merge key may be overridden
        load_config(path)


def test_a_whole_number_in_exponent_form_says_why_it_is_text(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML) reads 1e3 as the text '1e3' (a float needs a dot and an exponent sign,
    # 1.0e+3; checked with yaml.safe_load): pydantic said only
    # "unable to parse string as an integer", which a user who wrote a number cannot act on
    path = tmp_path / "c.yaml"
    path.write_text("name: x\nevaluate:\n  bootstrap: 1e3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (
        f"{path}: evaluate.bootstrap: '1e3' is text to YAML, not a number (YAML 1.1 reads "
        "exponent form only with a dot and a signed exponent, 1.0e+3), and a whole number is "
        "expected here: write it out (1000)"
    ) in str(info.value).split("; ")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.yaml", ["evaluate.bootstrap=2E+2"])
    assert "--set evaluate.bootstrap=2E+2: evaluate.bootstrap: '2E+2' is text" in str(info.value)
    assert "write it out (200)" in str(info.value)
    path.write_text("name: x\nevaluate:\n  bootstrap: 1.0e+3\n")  # as the message says: taken
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "bootstrap" not in str(info.value)


def test_a_mapping_without_spaces_after_its_colons_says_so(tmp_path: Path) -> None:
    """``mask_values: {0:0, 255:1}`` is YAML for the keys '0:0' and 15301 (1.1's base 60)
    without values; it was refused as ``data.mask_values.15301: Input should be a valid
    integer``, a key the user never wrote."""
    said = _refused(tmp_path, "name: x\ndata:\n  mask_values: {0: 0, 255:1}\n")
    assert said == (
        "radpipe run: config error: c.yaml: not valid YAML: line 3, column 23: '255:1' is read "
        "as one key without a value (a colon in a mapping needs a space after it: write "
        "'255: 1')"
    )
    assert "15301" not in said
    # with the spaces, the same map is read as written
    (tmp_path / "c.yaml").write_text("name: x\ndata:\n  mask_values: {0: 0, 255: 1}\n")
    with pytest.raises(ConfigError) as info:  # refused for the missing keys, not the map
        load_config(tmp_path / "c.yaml")
    assert "mask_values" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("train:\n  epochs: 1:30\n", "line 3, column 11: YAML 1.1 reads 1:30 as the base-60 "
         "number 90; for a string, quote it ('1:30'), or give the number"),
        ("train:\n  lr: 1:00.5\n", "line 3, column 7: YAML 1.1 reads 1:00.5 as the base-60 "
         "number 60.5"),
        ("model:\n  hidden: [8, 2:00:00]\n", "line 3, column 15: YAML 1.1 reads 2:00:00 as the "
         "base-60 number 7200"),
    ],
    ids=["int", "float", "in-a-list"],
)  # fmt: skip
def test_a_base_60_number_in_the_file_is_refused_as_in_set(
    tmp_path: Path, text: str, said: str
) -> None:
    """``epochs: 1:30`` was 90 epochs without a word (``--set train.epochs=1:30`` was
    refused); 1*60+30 = 90, 60+0.5 = 60.5, 2*3600 = 7200."""
    assert _refused(tmp_path, "name: x\n" + text).startswith(
        f"radpipe run: config error: c.yaml: not valid YAML: {said}"
    )
    # quoted, it is the string it looks like (refused by the schema, not by the loader)
    (tmp_path / "c.yaml").write_text("name: x\ntrain:\n  epochs: '1:30'\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.yaml")
    assert "base-60" not in str(info.value)
