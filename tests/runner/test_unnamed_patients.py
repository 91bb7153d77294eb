"""Series without a PatientID are placed in the split by their study, with a warning: they
all hashed to one patient key, so the split took them for ONE patient and put them in one part
together, without a word."""

from __future__ import annotations

import logging
from pathlib import Path

import pydicom
import pytest

from pipeline.split import read_split_csv
from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


def test_series_without_a_patient_id_are_one_patient_per_study(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_study(tmp_path, StudySpec(patients=8, modality="CR", size=16, series_per_patient=2))
    files = sorted((tmp_path / "dicom").rglob("*.dcm"))
    named, unnamed = set(), set()
    for n, path in enumerate(files):
        ds = pydicom.dcmread(path)
        if n % 2:  # every other file: no PatientID, or an empty one (type 2)
            if n % 4 == 1:
                del ds.PatientID
            else:
                ds.PatientID = ""
            ds.save_as(path)
            unnamed.add(ds.StudyInstanceUID)
        else:
            named.add(ds.PatientID)
    raw = base_config(tmp_path, tmp_path / "out")
    (tmp_path / "run").mkdir()
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    split = read_split_csv(tmp_path / "run" / "split.csv")
    assert len(split) == len(files) == 16
    assert len({r["patient_key"] for r in split}) == len(named) + len(unnamed)
    said = [r.getMessage() for r in caplog.records if "no PatientID" in r.getMessage()]
    first = sorted(p.relative_to(tmp_path / "dicom").as_posix() for p in files[1::2])[:5]
    assert said == [
        f"8 of 16 series have no PatientID (missing or empty): each of their {len(unnamed)} "
        "studies is taken for a patient of its own in the split (one key for all of them made "
        "them one patient); the studies of one patient can then be in two parts of the split: "
        f"give them their PatientIDs to keep each patient in one ({', '.join(first)} and 3 more)"
    ]
