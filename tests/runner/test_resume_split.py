"""A resumed run keeps the split it started with (``RUN/split.csv``), never a split made again.

The split is a function of the data, the seed and radpipe's splitting code; a run resumed
after an upgrade that changed that code would otherwise train its remaining epochs (or folds)
on other patients than its first ones, and score on a test part some of whose patients it had
trained on. Here the run's ``split.csv`` is changed as such an upgrade would (one training
patient and one test patient trade parts, no patient in two parts): preparing the run again
reads that split, row for row.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.split import read_split_csv, write_split_csv
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


def test_preparing_a_run_again_reads_its_split_csv(cr16: Path, tmp_path: Path) -> None:
    config = validate_config(base_config(cr16, tmp_path / "out"))
    run = tmp_path / "run"
    run.mkdir()
    first = prepare_study(config, run, progress=False).split
    train = next(r["patient_key"] for r in first if r["split"] == "train")
    test = next(r["patient_key"] for r in first if r["split"] == "test")
    traded = {train: "test", test: "train"}
    edited = [{**r, "split": traded.get(r["patient_key"], r["split"])} for r in first]
    assert edited != first
    write_split_csv(edited, run / "split.csv")
    again = prepare_study(config, run, progress=False).split
    assert [(r["series_key"], r["split"]) for r in again] == [
        (r["series_key"], r["split"]) for r in edited
    ]
    assert read_split_csv(run / "split.csv") == again  # and left as it was
