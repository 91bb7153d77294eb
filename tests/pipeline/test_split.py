"""Patient-grouped, label-stratified splits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.errors import RadpipeError
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


def test_a_leak_names_a_file_of_each_part_given_them() -> None:
    """The patient was named by its hashed key alone, which no file of the user's holds:
    each part's series is now named by a file of it (never the patient's ID)."""
    rows = [
        {"patient_key": "p1", "series_key": "s1", "label": 0, "split": "train", "fold": -1},
        {"patient_key": "p1", "series_key": "s3", "label": 0, "split": "test", "fold": -1},
    ]
    sources = {"s1": "a/1.dcm", "s3": "b/7.dcm"}
    with pytest.raises(SplitLeakError) as info:
        check_no_leak(rows, sources)
    assert str(info.value) == (
        "Patient p1 is in split 'train' (fold -1: a/1.dcm (series s1)) and split 'test' "
        "(fold -1: b/7.dcm (series s3))."
    )
    with pytest.raises(SplitLeakError) as info:  # images: the key is the file's
        check_no_leak(rows, sources, unit="")
    assert str(info.value) == (
        "Patient p1 is in split 'train' (fold -1: a/1.dcm) and split 'test' (fold -1: b/7.dcm)."
    )
    with pytest.raises(SplitLeakError) as info:  # no file known: the series key
        check_no_leak(rows)
    assert "(fold -1: series s1) and split 'test' (fold -1: series s3)" in str(info.value)


def test_split_errors_are_clear() -> None:
    rows = [{"patient_key": "p1", "series_key": "s1", "label": 0}]
    with pytest.raises(ValueError, match="sum"):
        split_by_ratio(rows, (0.5, 0.2, 0.2))
    with pytest.raises(Exception, match="1 patient"):
        split_k_fold(rows, k=3)


def _rows(sizes: list[int], labels: list[int] | None = None) -> list[dict[str, object]]:
    """Patient ``p<i>`` with ``sizes[i]`` series of label ``labels[i]`` (0 when not given)."""
    return [
        {"patient_key": f"p{p}", "series_key": f"s{p}_{j}", "label": labels[p] if labels else 0}
        for p, n in enumerate(sizes)
        for j in range(n)
    ]


def test_k_fold_defaults_to_five_folds_and_refuses_one(
    study_rows: list[dict[str, object]],
) -> None:
    """Mutations: the default ``k`` changed; the ``k >= 2`` check removed."""
    assert {r["fold"] for r in split_k_fold(study_rows)} == {0, 1, 2, 3, 4}
    with pytest.raises(ValueError, match="k must be >= 2; got 1"):
        split_k_fold(study_rows, k=1)


def test_largest_patients_are_placed_first() -> None:
    """Mutation: the largest-first order of the greedy assignment dropped. Patients of 3, 1, 1
    and 1 series into 2 folds: only {3} | {1, 1, 1} gives 3 + 3, and placing the 3-series
    patient first finds it for every seed (in shuffled order, e.g. 1, 1, 3, 1 gives 4 + 2)."""
    for seed in range(10):
        rows = split_k_fold(_rows([3, 1, 1, 1]), k=2, seed=seed)
        sizes = Counter(r["fold"] for r in rows)
        assert sorted(sizes.values()) == [3, 3], (seed, sizes)
        assert len({r["fold"] for r in rows if r["patient_key"] == "p0"}) == 1


def test_select_fold_keeps_the_held_out_test_set_out_of_training(
    study_rows: list[dict[str, object]],
) -> None:
    """Mutation: ``select_fold`` puts held-out test rows into training (or validation)."""
    rows = split_k_fold(study_rows, k=4, seed=1, test_ratio=0.2)
    test = {r["series_key"] for r in rows if r["split"] == "test"}
    for fold in range(4):
        parts = select_fold(rows, fold)
        keys = {name: {r["series_key"] for r in part} for name, part in parts.items()}
        assert keys["test"] == test
        assert keys["val"] == {r["series_key"] for r in rows if r["fold"] == fold}
        assert keys["train"] == {
            r["series_key"] for r in rows if r["split"] == "train" and r["fold"] != fold
        }
    with pytest.raises(RadpipeError, match="Fold 4 has no rows"):
        select_fold(rows, 4)


def test_read_split_csv_checks_columns_and_names_the_line(tmp_path: Path) -> None:
    """Mutations: the missing-column check removed; line numbers counted from 1 (the header
    is line 1, so the second data row is line 3); an empty ``fold`` not read as -1."""
    path = tmp_path / "split.csv"
    path.write_text("patient_key,series_key,label,split\np1,s1,0,train\n")
    with pytest.raises(RadpipeError, match=r"split\.csv: missing columns \['fold'\]"):
        read_split_csv(path)
    path.write_text("patient_key,series_key,label,split,fold\np1,s1,0,train,\np2,s2,,tset,\n")
    with pytest.raises(RadpipeError, match=r"split\.csv:3: split must be train/val/test"):
        read_split_csv(path)
    path.write_text("patient_key,series_key,label,split,fold\np1,s1,,val,\n")
    assert read_split_csv(path) == [
        {"patient_key": "p1", "series_key": "s1", "label": None, "split": "val", "fold": -1}
    ]


#: Labels of each patient's series: 6 positive series of 32, spread over patients of 1 to 3.
_FEW_POSITIVES = {"p00": [1, 0], "p01": [0, 0, 0], "p02": [1, 1, 0], "p03": [0, 0, 0],
                  "p04": [0], "p05": [0, 1], "p06": [0, 0], "p07": [0], "p08": [1, 0, 0],
                  "p09": [0, 0], "p10": [0, 0], "p11": [0, 0, 0], "p12": [0, 0, 1],
                  "p13": [0, 0]}  # fmt: skip


@pytest.mark.parametrize("seed", range(5))
def test_a_rare_class_is_spread_evenly_over_the_folds(seed: int) -> None:
    # 6 positive and 26 negative series in 3 folds: 2 positives each, 8 or 9 negatives. The
    # per-class costs are scaled by the class's size; unscaled, a fold got 4 positives and
    # another none (its AUC undefined)
    rows = [{"patient_key": p, "series_key": f"{p}s{i}", "label": label}
            for p, labels in _FEW_POSITIVES.items() for i, label in enumerate(labels)]  # fmt: skip
    counts = Counter((r["fold"], r["label"]) for r in split_k_fold(rows, k=3, seed=seed))
    assert [counts[(f, 1)] for f in range(3)] == [2, 2, 2]
    assert sorted(counts[(f, 0)] for f in range(3)) == [8, 9, 9]


def test_one_patient_id_for_every_series_is_named_as_such() -> None:
    """40 series whose de-identification wrote one PatientID for all: one patient cannot fill
    train, validation and test; the refusal said only that ("Cannot split 1 patient into 3
    non-empty parts."), not that the series all carry one ID."""
    rows = [{"patient_key": "p", "series_key": f"s{i}", "label": i % 2} for i in range(40)]
    with pytest.raises(RadpipeError) as err:
        split_by_ratio(rows, (0.6, 0.2, 0.2))
    assert str(err.value).startswith("Cannot split 1 patient into 3 non-empty parts")
    assert "Their 40 series carry 1 distinct patient ID: a de-identification" in str(err.value)
    two = [{"patient_key": f"p{i}", "series_key": f"s{i}", "label": i} for i in range(2)]
    with pytest.raises(RadpipeError) as few:  # two patients of one series each: too few, no more
        split_by_ratio(two, (0.6, 0.2, 0.2))
    assert "de-identification" not in str(few.value)
