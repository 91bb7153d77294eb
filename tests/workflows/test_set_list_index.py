"""``--set augment.0.p=2`` on a config without augmentation was "augment: Input should be a
valid list" (the override had made ``augment`` a mapping ``{"0": ...}``), and past the end of
a list "expected a list index below 0"; a ``--set`` value that is not YAML always ended
"quote it for a string: --set 'key=\\"...\\"'", also where the loader's own advice (a space
after the colon of ``{0:0}``) is the fix. Each now gets the words that fit, written by hand;
a ``12:30`` (YAML 1.1: the base-60 number 750) is refused instead of becoming 750."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflows.cli import main

CONFIG = {
    "task": "classification", "data": {"source": "dicom", "labels": "labels.csv"},
    "model": {"type": "mlp_classifier"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("augment", "item", "said"),
    [
        (None, "augment.0.p=2", "--set augment.0: index 0 is past the end of the list augment "
         "(not in the config: empty); set the whole list instead: --set 'augment=[...]'"),
        ([], "augment.0.p=2", "--set augment.0: index 0 is past the end of the list augment "
         "(empty); set the whole list instead: --set 'augment=[...]'"),
        ([{"type": "random_flip"}], "augment.1.p=2", "--set augment.1: index 1 is past the end "
         "of the list augment (1 item, 0 to 0); set the whole list instead: --set "
         "'augment=[...]'"),
        ([{"type": "random_flip"}], "augment.p=2", "--set augment.p: augment is a list (1 item, "
         "0 to 0): address an item by its index"),
        (None, "data.mask_values={0:0, 255:1}", "--set data.mask_values={0:0, 255:1}: line 1, "
         "column 2: '0:0' is read as one key without a value (a colon in a mapping needs a "
         "space after it: write '0: 0')"),
        (None, "name=a: b: c", "--set name=a: b: c: the value is not valid YAML (line 1, column "
         "5: mapping values are not allowed here); for a string, quote it: --set "
         "'name=\"a: b: c\"'"),
        (None, "name=12:30", "--set name=12:30: YAML 1.1 reads 12:30 as the base-60 number 750; "
         "for a string, quote it: --set 'name=\"12:30\"' (or give the number)"),
    ],
)  # fmt: skip
def test_set_is_refused_with_words_that_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], augment: list | None, item: str, said: str
) -> None:
    config = CONFIG | ({"augment": augment} if augment is not None else {})
    (tmp_path / "c.yaml").write_text(json.dumps(config))
    assert main(["config", "show", str(tmp_path / "c.yaml"), "--set", item]) == 2
    assert capsys.readouterr().err == f"radpipe config: config error: {said}\n"
