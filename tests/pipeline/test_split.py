"""Patient-grouped, label-stratified splits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.split import (
    SplitLeakError,
    check_no_leak,
    read_split_csv,
    rows_from_labels_csv,
    select_fold,
    split_by_ratio,
    split_k_fold,
    write_split_csv,
)
from pipeline.synth import StudySpec, write_study

# Per fold, each class's share may differ from its share in the whole pool by at most this.
BALANCE_TOLERANCE = 0.10


@pytest.fixture(scope="module")
def study_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    """40 patients x 2 series, 3 classes: a real synthetic study's labels.csv."""
    out = tmp_path_factory.mktemp("split_study")
    spec = StudySpec(patients=40, modality="CR", size=16, series_per_patient=2, num_classes=3)
    write_study(out, spec)
    return rows_from_labels_csv(out / "labels.csv")


def _patients_by(rows: list[dict[str, object]], key: str) -> dict[object, set[object]]:
    out: dict[object, set[object]] = {}
    for r in rows:
        out.setdefault(r["patient_key"], set()).add(r[key])
    return out


def test_grouped_stratified_five_fold(study_rows: list[dict[str, object]], tmp_path: Path) -> None:
    rows = split_k_fold(study_rows, k=5, seed=7)
    assert len(rows) == 80
    # Every patient in exactly one fold.
    assert all(len(folds) == 1 for folds in _patients_by(rows, "fold").values())
    overall = Counter(r["label"] for r in rows)
    for fold in range(5):
        members = [r for r in rows if r["fold"] == fold]
        assert 14 <= len(members) <= 18  # 80 series / 5, give or take one patient
        counts = Counter(r["label"] for r in members)
        for label, n in overall.items():
            share = counts[label] / len(members)
            assert abs(share - n / 80) <= BALANCE_TOLERANCE, (fold, label, counts)
    path = write_split_csv(rows, tmp_path / "split.csv")
    check_no_leak(path)
    assert read_split_csv(path) == rows
    parts = select_fold(read_split_csv(path), 2)
    assert {r["series_key"] for r in parts["val"]} == {
        r["series_key"] for r in rows if r["fold"] == 2
    }
    assert len(parts["train"]) + len(parts["val"]) == 80 and not parts["test"]


def test_k_fold_with_held_out_test(study_rows: list[dict[str, object]]) -> None:
    rows = split_k_fold(study_rows, k=4, seed=1, test_ratio=0.2)
    test = [r for r in rows if r["split"] == "test"]
    assert 14 <= len(test) <= 18 and all(r["fold"] == -1 for r in test)
    check_no_leak(rows)
    assert {r["fold"] for r in rows if r["split"] == "train"} == {0, 1, 2, 3}


def test_ratio_split_grouped_stratified_deterministic(
    study_rows: list[dict[str, object]],
) -> None:
    a = split_by_ratio(study_rows, (0.6, 0.2, 0.2), seed=3)
    assert a == split_by_ratio(study_rows, (0.6, 0.2, 0.2), seed=3)
    assert a != split_by_ratio(study_rows, (0.6, 0.2, 0.2), seed=4)
    assert all(len(s) == 1 for s in _patients_by(a, "split").values())
    sizes = Counter(r["split"] for r in a)
    assert abs(sizes["train"] - 48) <= 2 and abs(sizes["val"] - 16) <= 2
    for name in ("train", "val", "test"):
        members = [r for r in a if r["split"] == name]
        counts = Counter(r["label"] for r in members)
        assert max(counts.values()) - min(counts.values()) <= 0.15 * len(members) + 1
    check_no_leak(a)


def test_check_no_leak_raises_on_shared_patient(tmp_path: Path) -> None:
    rows = [
        {"patient_key": "p1", "series_key": "s1", "label": 0, "split": "train", "fold": -1},
        {"patient_key": "p2", "series_key": "s2", "label": 1, "split": "val", "fold": -1},
        {"patient_key": "p1", "series_key": "s3", "label": 0, "split": "test", "fold": -1},
    ]
    with pytest.raises(SplitLeakError, match="p1 is in split 'train'"):
        check_no_leak(rows)
    write_split_csv(rows, tmp_path / "split.csv")
    with pytest.raises(SplitLeakError):
        check_no_leak(tmp_path / "split.csv")
    folds = [dict(r, split="train", fold=i) for i, r in enumerate(rows)]
    with pytest.raises(SplitLeakError, match="fold"):
        check_no_leak(folds)


def test_split_errors_are_clear() -> None:
    rows = [{"patient_key": "p1", "series_key": "s1", "label": 0}]
    with pytest.raises(ValueError, match="sum"):
        split_by_ratio(rows, (0.5, 0.2, 0.2))
    with pytest.raises(Exception, match="1 patient"):
        split_k_fold(rows, k=3)
