"""``split.column`` and the ratio split: edge cases worked out by hand.

Series rows and parts are built directly; the config is the run's, reduced to what the split
reads (``split``, ``seed``, ``data.kind``, ``data.labels``, ``train.monitor``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.errors import RadpipeError
from workflows.run.split_column import SplitConfig, make_split, split_from_column


def _series(n: int) -> list[dict[str, Any]]:
    return [{"patient_key": f"p{i}", "series_key": f"s{i}", "label": i % 2} for i in range(n)]


def _config(**split: Any) -> SimpleNamespace:
    data = SimpleNamespace(kind="series", labels=Path("l.csv"))
    monitor = SimpleNamespace(monitor="val_loss")
    return SimpleNamespace(split=SplitConfig(**split), seed=0, data=data, train=monitor)


def test_k_fold_ignores_the_validation_fraction() -> None:
    assert SplitConfig(test=0.5, val=0.6, folds=3).folds == 3  # 0.5 + 0.6 >= 1: no matter
    with pytest.raises(ValueError, match=r"test \+ val must be < 1"):
        SplitConfig(test=0.5, val=0.6)


def test_the_columns_test_rows_stay_out_of_the_folds() -> None:
    series = _series(8)
    parts = {s["series_key"]: ("test" if i < 2 else "train", i + 2) for i, s in enumerate(series)}
    rows = split_from_column(series, parts, _config(column="part", folds=2), shown="l.csv",
                             needs_val=True)  # fmt: skip
    by_key = {r["series_key"]: r for r in rows}
    assert [(by_key[k]["split"], by_key[k]["fold"]) for k in ("s0", "s1")] == [("test", -1)] * 2
    assert sorted(Counter(r["fold"] for r in rows if r["split"] == "train").values()) == [3, 3]


def test_no_validation_rows_are_needed_without_a_validation_monitor() -> None:
    series = _series(4)
    parts = {s["series_key"]: ("train" if i < 3 else "test", i + 2) for i, s in enumerate(series)}
    config = _config(column="part")
    rows = split_from_column(series, parts, config, shown="l.csv", needs_val=False)
    assert [r["split"] for r in rows] == ["train", "train", "train", "test"]
    with pytest.raises(RadpipeError, match="names no validation series"):
        split_from_column(series, parts, config, shown="l.csv", needs_val=True)


def test_a_patient_in_two_parts_is_refused() -> None:
    series = [*_series(3), {"patient_key": "p0", "series_key": "s9", "label": 0}]
    parts = {"s0": ("train", 2), "s1": ("train", 3), "s2": ("val", 4), "s9": ("test", 5)}
    with pytest.raises(RadpipeError, match="puts 1 patient in more than one part"):
        split_from_column(series, parts, _config(column="part"), shown="l.csv", needs_val=True)


def test_part_names_are_read_in_any_case(tmp_path: Path) -> None:
    from workflows.run.split_column import read_split_column

    path = tmp_path / "l.csv"
    path.write_text("series_key,label,part\ns0,0,Train\ns1,1,VALIDATION\ns2,0,test\n")
    got = read_split_column(path, "part", "series", "l.csv")
    assert got == {"s0": ("train", 2), "s1": ("val", 3), "s2": ("test", 4)}


def test_the_ratio_split_gives_val_and_test_their_own_fractions() -> None:
    rows = make_split(_config(val=0.1, test=0.4), _series(20), None)
    assert Counter(r["split"] for r in rows) == {"train": 10, "val": 2, "test": 8}


def test_a_validation_fraction_beside_the_column_is_refused_without_folds() -> None:
    with pytest.raises(ValueError, match=r"split\.val would be ignored"):
        SplitConfig(column="part", val=0.3)
    assert SplitConfig(column="part", val=0.3, folds=3).folds == 3  # k-fold ignores val


def test_an_unstratified_split_does_not_look_at_the_labels() -> None:
    series = _series(20)
    relabelled = [{**r, "label": int(r["series_key"][1:]) % 3 == 0} for r in series]
    config = _config(val=0.2, test=0.2, stratify=False)
    parts = [{r["series_key"]: r["split"] for r in make_split(config, s, None)}
             for s in (series, relabelled)]  # fmt: skip
    assert parts[0] == parts[1]
    kept = {r["series_key"]: r["label"] for r in make_split(config, relabelled, None)}
    assert kept == {r["series_key"]: r["label"] for r in relabelled}  # labels kept in the rows
