"""The two readers of a labels CSV in research code (``rows_from_labels_csv`` for the split,
``read_labels_csv`` for a dataset's labels) refuse what they cannot read, naming the line.

Until 2026-12-02 a class name as label stopped the split with Python's ``invalid literal for
int() with base 10: 'benign'``; a series listed twice with two labels became two rows of the
split (stratified as two series) while the dataset kept the last label, unsaid; and every
row with an empty ``patient_id`` shared one patient key, so the split put them all in one part.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from pipeline.data.io import read_labels_csv
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from pipeline.split import rows_from_labels_csv, split_by_ratio
from workflows.run.patients import place_unnamed_patients

HEADER = "patient_id,study_uid,series_uid,label\n"


def _csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(HEADER + body)
    return path


@pytest.mark.parametrize("reader", [rows_from_labels_csv, read_labels_csv], ids=["split", "ds"])
@pytest.mark.parametrize("cell", ["benign", "1.5", "x1"])
def test_a_label_that_is_no_class_index_is_refused_naming_the_line(tmp_path, reader, cell):
    path = _csv(tmp_path, f"P1,1.9,1.2.1,0\nP2,1.9,1.2.2,{cell}\n")
    with pytest.raises(RadpipeError, match=rf"^labels.csv line 3: label '{cell}' is not a class"):
        reader(path)


@pytest.mark.parametrize("reader", [rows_from_labels_csv, read_labels_csv], ids=["split", "ds"])
def test_a_series_listed_again_with_another_label_is_refused(tmp_path, reader) -> None:
    path = _csv(tmp_path, "P1,1.9,1.2.1,0\nP2,1.8,1.2.2,1\nP1,1.9,1.2.1,1\n")
    with pytest.raises(RadpipeError, match=r"^labels.csv line 4: series_uid listed again \(line 2"):
        reader(path)


def test_a_series_listed_again_as_it_is_is_one_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "P1,1.9,1.2.1,0\nP2,1.8,1.2.2,1\nP1,1.9,1.2.1,0.0\n")  # 0.0 is 0
    assert rows_from_labels_csv(path) == [
        {"patient_key": hash_key("P1"), "series_key": hash_key("1.2.1"), "label": 0},
        {"patient_key": hash_key("P2"), "series_key": hash_key("1.2.2"), "label": 1},
    ]
    assert read_labels_csv(path) == {hash_key("1.2.1"): 0, hash_key("1.2.2"): 1}


def test_a_series_listed_again_under_another_patient_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "P1,1.9,1.2.1,0\nP2,1.9,1.2.1,0\n")
    with pytest.raises(
        RadpipeError, match=r"line 3: series_uid listed again .* another patient_id"
    ):
        rows_from_labels_csv(path)


def test_rows_without_patient_id_are_placed_by_study_as_radpipe_run_does(tmp_path) -> None:
    # studies 1.7 (two series) and 1.8 (one) have no patient_id; P1 has one
    path = _csv(tmp_path, ",1.7,1.2.1,0\n,1.7,1.2.2,1\n,1.8,1.2.3,0\nP1,1.9,1.2.4,1\n")
    with pytest.warns(UserWarning, match=r"labels.csv: 3 series without patient_id"):
        rows = rows_from_labels_csv(path)
    keys = [r["patient_key"] for r in rows]
    assert keys[0] == keys[1] != keys[2] and keys[3] == hash_key("P1")
    assert hash_key("") not in keys  # the one key every empty patient_id shared
    # the keys radpipe run gives series without PatientID (its manifest's study keys)
    run_rows = {f"s{i}": {"patient_key": hash_key("")} for i in range(3)}
    studies = {"s0": hash_key("1.7"), "s1": hash_key("1.7"), "s2": hash_key("1.8")}
    place_unnamed_patients(run_rows, studies, {})
    assert keys[:3] == [run_rows[f"s{i}"]["patient_key"] for i in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = split_by_ratio(rows_from_labels_csv(path), (0.5, 0.25, 0.25), seed=0)
    assert len({r["split"] for r in split}) == 3  # 3 patients now, not 2


def test_an_empty_patient_id_without_a_study_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("patient_id,series_uid,label\nP1,1.2.1,0\n ,1.2.2,1\n")
    with pytest.raises(RadpipeError, match=r"^labels.csv line 3: patient_id is empty and there"):
        rows_from_labels_csv(path)
