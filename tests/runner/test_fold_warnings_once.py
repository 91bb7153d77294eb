"""A k-fold evaluation scored each fold model and their ensemble on the same test cases, and
each scoring warned on its own: ``ROC AUC is undefined ...`` came k + 1 times, identically,
naming no fold. It is now said once, naming the folds it applies to. The labels are all
``round_lesion`` here, so the reason is known by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runner.conftest import read_rows, write_rows
from workflows.cli import main


def test_an_undefined_auc_is_said_once_naming_the_folds(
    kfold_run: Path, cr16: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{**r, "label": "1", "class_name": "round_lesion"}
            for r in read_rows(cr16 / "labels.csv")]  # fmt: skip
    labels = write_rows(tmp_path / "one_class.csv", rows)
    assert main(["evaluate", str(kfold_run), str(cr16 / "dicom"), "--labels", str(labels),
                 "--out", str(tmp_path / "ev"), "--quiet"]) == 0  # fmt: skip
    said = [line for line in capsys.readouterr().err.splitlines() if "ROC AUC" in line]
    assert said == [
        "radpipe: warning: ROC AUC is undefined: only one class is present in the test cases "
        "(class 1, round_lesion); class 0 (no_lesion) has no case (fold 0, fold 1 and the "
        "ensemble of the 2 fold models: the same test cases)"
    ]
