"""A labels.csv or split.csv saved by Excel as "CSV UTF-8" starts with a byte-order mark
(EF BB BF); it was read as part of the first column's name, so rows_from_labels_csv said
"missing columns ['patient_id']" of a file that has it, and read_split_csv (``radpipe run
--resume``) "missing columns ['patient_key']". Every reader goes through csv_text."""

from __future__ import annotations

from pathlib import Path

from pipeline.keys import hash_key
from pipeline.split import read_split_csv, rows_from_labels_csv
from workflows.run.rundir import split_index_values
from workflows.run.seen import seen_by_run

BOM = b"\xef\xbb\xbf"


def test_labels_csv_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes(BOM + b"patient_id,series_uid,label\r\nP1,1.2.3,0\r\nP2,1.2.4,1\r\n")
    assert rows_from_labels_csv(path) == [
        {"patient_key": hash_key("P1"), "series_key": hash_key("1.2.3"), "label": 0},
        {"patient_key": hash_key("P2"), "series_key": hash_key("1.2.4"), "label": 1},
    ]


def test_split_csv_with_a_bom(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "split.csv").write_bytes(
        BOM + b"patient_key,series_key,label,split,fold\r\npa,sa,1,train,-1\r\npb,sb,0,test,-1\r\n"
    )
    (run / "index.csv").write_text("series_key,modality\nsa,CT\nsb,MR\nsc,US\n")
    assert read_split_csv(run / "split.csv") == [
        {"patient_key": "pa", "series_key": "sa", "label": 1, "split": "train", "fold": -1},
        {"patient_key": "pb", "series_key": "sb", "label": 0, "split": "test", "fold": -1},
    ]
    rows = [{"series_key": "sa", "patient_key": "pa"}, {"series_key": "sx", "patient_key": "pa"}]
    assert seen_by_run(run, rows).as_dict() == {
        "series": 2, "series_seen_in_training": 1, "series_of_patients_seen_in_training": 1,
    }  # fmt: skip
    assert split_index_values(run, "modality") == {"CT", "MR"}
