"""CSV columns spelt another way (``SeriesInstanceUID``, ``Image``, ``Patient_ID``) are named
with the column radpipe reads, before anything runs (exit 2, no run directory). A labels CSV
without its key column was refused once the run directory had been made and the source
converted (exit 1: ``needs a 'series_key' or 'series_uid' column``), and an images list's
``Patient_ID`` was not read at all: each image was its own patient in the split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from pipeline.errors import ConfigError
from tests.runner.conftest import base_config, write_rows
from workflows.cli import main
from workflows.run.checks import check_inputs
from workflows.run.config import validate_config


def test_a_dicom_labels_csv_keyed_by_the_dicom_keyword_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dicom").mkdir()
    (tmp_path / "dicom" / "a.dcm").write_bytes(b"")  # an empty folder is refused too
    rows = [{"SeriesInstanceUID": "1.2.3", "label": 0, "Class_Name": "normal"}]
    write_rows(tmp_path / "labels.csv", rows)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(base_config(tmp_path, tmp_path / "out")))
    assert main(["run", str(tmp_path / "c.yaml"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "radpipe run: config error: data.labels: labels.csv has no 'series_uid' or "
        "'series_key' or 'file' column (columns: SeriesInstanceUID, label, Class_Name) (rename "
        "'SeriesInstanceUID' to 'series_uid': column names are matched exactly); data.labels: "
        "labels.csv has no 'class_name' column (rename 'Class_Name' to 'class_name': column "
        "names are matched exactly); without it the classes are named by their indices"
    )
    assert not (tmp_path / "out").exists()


def test_an_images_list_with_patient_id_spelt_otherwise_is_refused(tmp_path: Path) -> None:
    for i in range(2):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / f"{i}.png")
    rows = [{"image": f"{i}.png", "Label": i, "Patient ID": "p1"} for i in range(2)]
    raw = base_config(tmp_path, tmp_path / "out", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(write_rows(tmp_path / "l.csv", rows)))
    with pytest.raises(ConfigError) as err:
        check_inputs(validate_config(raw))
    assert str(err.value) == (
        "data.label_column 'label' is not a column of l.csv (columns: image, Label, Patient ID) "
        "(set data.label_column: Label, or rename the column 'Label' to 'label': column names "
        "are matched exactly); data.labels: l.csv has "
        "no 'patient_id' column (rename 'Patient ID' to 'patient_id': column names are matched "
        "exactly); without it each image is its own patient in the split"
    )
    rows = [{"image": f"{i}.png", "label": i, "patient_id": "p1", "PatientID": "x"}
            for i in range(2)]  # fmt: skip
    raw["data"]["labels"] = str(write_rows(tmp_path / "l.csv", rows))
    raw["split"] = {"test": 0.0, "val": 0.0}  # one patient: one part (checked up front)
    check_inputs(validate_config(raw))  # patient_id is there: another column is no matter
