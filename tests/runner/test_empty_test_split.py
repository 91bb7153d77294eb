"""Split parts that come out empty.

A ratio split of 3 patients at ``split.test`` 0.2 and ``split.val`` 0.2 had an empty test part
(2 training, 1 validation patient), refused before training; since 2026-12-02 every part asked
for gets a patient (:mod:`pipeline.split`), so it is one patient each. The refusals before
training stay for splits made otherwise (``split.column``, a split changed on disk): they are
checked here on the split rows themselves.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.errors import RadpipeError
from tests.runner.conftest import base_config
from workflows.run.checks import check_validation_split
from workflows.run.config import validate_config
from workflows.run.split_column import make_split


def _config(tmp_path: Path, **split: object) -> object:
    raw = base_config(tmp_path / "s", tmp_path / "runs")
    raw["split"] = {"test": 0.2, "val": 0.2, **split}
    return validate_config(raw)


def _series(patients: int, per_patient: int = 2) -> list[dict[str, object]]:
    return [{"patient_key": f"p{p}", "series_key": f"p{p}s{s}", "label": (p + s) % 2}
            for p in range(patients) for s in range(per_patient)]  # fmt: skip


def test_three_patients_give_each_part_one(tmp_path: Path) -> None:
    split = make_split(_config(tmp_path), _series(3), None)
    parts = {part: {r["patient_key"] for r in split if r["split"] == part}
             for part in ("train", "val", "test")}  # fmt: skip
    assert [len(p) for p in parts.values()] == [1, 1, 1]
    assert Counter(r["split"] for r in split) == {"train": 2, "val": 2, "test": 2}


def _rows(parts: list[str]) -> SimpleNamespace:
    return SimpleNamespace(split=[{"patient_key": f"p{k}", "series_key": f"s{k}", "split": part}
                                  for k, part in enumerate(parts)])  # fmt: skip


def test_an_empty_test_part_is_refused_with_the_counts(tmp_path: Path) -> None:
    with pytest.raises(RadpipeError) as err:
        check_validation_split(_config(tmp_path), _rows(["train"] * 4 + ["val"] * 2))
    assert str(err.value) == (
        "The test split is empty (4 training, 2 validation and 0 test series of 6 patients; "
        "split.test 0.2): add patients, or raise split.test; or set split.test: 0 and score "
        "the model with radpipe evaluate."
    )


def test_an_empty_validation_part_is_refused_for_a_validation_monitor(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config.train.monitor = "val_loss"
    with pytest.raises(RadpipeError) as err:
        check_validation_split(config, _rows(["train"] * 2 + ["test"]))
    assert str(err.value).startswith(
        "The validation split is empty (2 training, 0 validation and 1 test series of 3 "
        "patients; split.val 0.2), but train.monitor 'val_loss' needs one"
    )
    config.train.monitor = "train_loss"  # no validation metric: said, not refused
    check_validation_split(config, _rows(["train"] * 2 + ["test"]))
