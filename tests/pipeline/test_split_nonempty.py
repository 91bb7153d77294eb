"""Every part of a split that was asked for gets a patient.

Until 2026-12-02 the greedy assignment filled parts by series counts only: 10 patients split
0.9/0.05/0.05 had no test part (train 9, val 1), unsaid; and a k-fold split with a held-out
test set could give the test set every patient but one, after which the folds failed with
"Cannot split 1 patient into 3 non-empty parts ... a de-identification that wrote one
PatientID for every patient makes them one patient", of data holding 10 patients.
"""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.errors import RadpipeError
from pipeline.split import check_no_leak, split_by_ratio, split_k_fold


def _rows(sizes: list[int]) -> list[dict]:
    return [{"patient_key": f"p{p}", "series_key": f"p{p}s{s}", "label": s % 2}
            for p, n in enumerate(sizes) for s in range(n)]  # fmt: skip


def _patients(rows: list[dict], **where: object) -> set[str]:
    return {r["patient_key"] for r in rows if all(r[k] == v for k, v in where.items())}


@pytest.mark.parametrize(
    ("sizes", "ratios"),
    [([1] * 10, (0.9, 0.05, 0.05)), ([1] * 3, (0.98, 0.01, 0.01)), ([40, 1, 1], (0.6, 0.2, 0.2))],
    ids=["10-patients-5pc", "3-patients-1pc", "one-large-patient"],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_ratio_part_gets_a_patient(sizes: list[int], ratios, seed: int) -> None:
    split = split_by_ratio(_rows(sizes), ratios, seed=seed)
    assert all(_patients(split, split=name) for name in ("train", "val", "test"))
    check_no_leak(split)


def test_a_zero_ratio_part_stays_empty() -> None:
    split = split_by_ratio(_rows([1] * 10), (0.9, 0.0, 0.1), seed=0)
    assert Counter(r["split"] for r in split) == {"train": 9, "test": 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_held_out_test_set_leaves_k_patients_for_k_folds(seed: int) -> None:
    # one patient of 50 series, nine of one: 20% of the series is more than the nine hold
    split = split_k_fold(_rows([50] + [1] * 9), k=3, seed=seed, test_ratio=0.2)
    assert _patients(split, split="test")
    assert all(_patients(split, split="train", fold=f) for f in range(3))
    assert len(_patients(split)) == 10
    check_no_leak(split)


def test_too_few_patients_for_the_folds_and_a_test_set_are_refused() -> None:
    with pytest.raises(RadpipeError, match=r"^Cannot split 3 patients into 4 non-empty parts"):
        split_k_fold(_rows([5, 1, 1]), k=3, seed=0, test_ratio=0.2)
