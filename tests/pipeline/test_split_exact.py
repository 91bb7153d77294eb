"""Splits whose best grouping is known by hand, asserted exactly (a mutation sweep of
``pipeline.split`` found the cost terms and defaults free to change under the tolerance-based
balance tests)."""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.split import split_by_ratio, split_k_fold


def _one_series_patients(n: int) -> list[dict[str, object]]:
    """n patients with one series each, labels alternating A, B."""
    return [
        {"patient_key": f"p{i:02d}", "series_key": f"s{i:02d}", "label": "AB"[i % 2]}
        for i in range(n)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_an_exactly_divisible_split_is_exact(seed: int) -> None:
    """20 patients, 10 A and 10 B, at 0.6 / 0.2 / 0.2: 12 / 4 / 4 patients, each half A."""
    out = split_by_ratio(_one_series_patients(20), (0.6, 0.2, 0.2), seed=seed)
    counts = Counter((r["split"], r["label"]) for r in out)
    assert counts == {("train", "A"): 6, ("train", "B"): 6, ("val", "A"): 2, ("val", "B"): 2,
                      ("test", "A"): 2, ("test", "B"): 2}  # fmt: skip


def test_the_default_ratios_are_70_15_15() -> None:
    """Without ratios: 0.7 / 0.15 / 0.15 of 20 series = 14 / 3 / 3, train 7 A and 7 B."""
    out = split_by_ratio(_one_series_patients(20), seed=0)
    assert Counter(r["split"] for r in out) == {"train": 14, "val": 3, "test": 3}
    assert Counter(r["label"] for r in out if r["split"] == "train") == {"A": 7, "B": 7}


def test_a_zero_part_needs_no_patient() -> None:
    """Two patients at 0.5 / 0.5 / 0: one each to train and val; the empty test part asks
    for none (a third patient is not required)."""
    out = split_by_ratio(_one_series_patients(2), (0.5, 0.5, 0.0), seed=0)
    assert sorted(r["split"] for r in out) == ["train", "val"]


@pytest.mark.parametrize("seed", range(3))
def test_folds_of_two_series_patients_are_balanced_as_far_as_patients_allow(seed: int) -> None:
    """10 A and 10 B patients of 2 series each into 4 folds: 10 patients of a class go 3, 3,
    2, 2, so a fold holds 6 or 4 series of each class, 10 series in all (a fold with 3 A
    patients has 2 B)."""
    rows = [
        {"patient_key": f"p{i // 2:02d}", "series_key": f"s{i:02d}", "label": "AB"[(i // 2) % 2]}
        for i in range(40)
    ]
    out = split_k_fold(rows, k=4, seed=seed)
    per_fold = Counter(r["fold"] for r in out)
    assert per_fold == {0: 10, 1: 10, 2: 10, 3: 10}
    by_class = Counter((r["fold"], r["label"]) for r in out)
    assert sorted(by_class[(f, "A")] for f in range(4)) == [4, 4, 6, 6]
