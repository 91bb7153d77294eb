"""``radpipe evaluate`` reads the run's own data again (its validation split gives the binary
operating point): the warnings that reading gives are those ``radpipe run`` gave of the same
data, and were said again, as if of SRC (a series of the run's labels CSV without a label,
under an external set with all of its labels). They are held back unless the run's data or
CSVs changed since the run; then a line says so and they follow.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.external import evaluate_external
from workflows.run.runner import run_study

UNLABELLED = "series have no label in labels.csv column 'label' and are left out"
CHANGED = "the run's own data (data.source and its CSVs), read again for the validation"


def _without(labels: Path, rows: int, out: Path) -> Path:
    """``labels`` less its first ``rows`` data rows."""
    with labels.open(newline="") as fh:
        table = list(csv.reader(fh))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows([table[0], *table[1 + rows :]])
    return out


def test_evaluate_says_the_runs_own_warnings_only_when_its_data_changed(
    cr16: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    labels = _without(cr16 / "labels.csv", 1, tmp_path / "own" / "labels.csv")
    raw = base_config(cr16, tmp_path / "runs", labels=str(labels))
    caplog.set_level("WARNING", logger="radpipe")
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    assert caplog.text.count(f"1 of 16 {UNLABELLED}") == 1  # the run says it
    caplog.clear()
    args = (outcome.run_dir, cr16 / "dicom", cr16 / "labels.csv")
    evaluate_external(*args, out=tmp_path / "ext", progress=False)
    assert UNLABELLED not in caplog.text and CHANGED not in caplog.text
    caplog.clear()
    _without(cr16 / "labels.csv", 2, labels)  # a label removed since the run: news
    evaluate_external(*args, out=tmp_path / "ext", progress=False)
    assert caplog.text.count(CHANGED) == 1
    assert caplog.text.count(f"2 of 16 {UNLABELLED}") == 1
