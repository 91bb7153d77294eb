"""A file whose BurnedInAnnotation (0028,0301) is YES is said per file by inspect and convert.

Its pixels hold burned-in text, often the patient's name or ID (PS3.3 C.7.6.1.1.7): a privacy
risk in the outputs and a shortcut a model can learn. Until 2026-12-03 only the run report
acted on the flag; inspect and convert said nothing. Expected words by hand; the slice whose
header says NO has no note.
"""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from pipeline.data.io import read_manifest
from pipeline.dicom.burned_in import burned_in_note
from tests.pipeline.dicom.builders import ct_series
from workflows.cli import main

NOTE = ("BurnedInAnnotation (0028,0301) YES: the pixels hold burned-in text, often identifying "
        "the patient (PS3.3 C.7.6.1.1.7), kept in the outputs: a privacy risk where they are "
        "shared, and a shortcut a model can learn")  # fmt: skip


def _series(tmp_path: Path) -> Path:
    src = ct_series(tmp_path / "src", [[0], [10]], BurnedInAnnotation="NO")
    ds = pydicom.dcmread(src / "s1.dcm")
    ds.BurnedInAnnotation = "YES"
    ds.save_as(src / "s1.dcm")
    return src


def test_inspect_names_the_file_with_burned_in_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(_series(tmp_path)), "--json"]) == 1  # a note is a problem
    found = json.loads(capsys.readouterr().out)
    assert [(p["where"], p["reason"]) for p in found["problems"]] == [("s1.dcm", f"note: {NOTE}")]


@pytest.mark.parametrize(("per", "fmt"), [("instance", "npy"), ("series", "nifti")])
def test_convert_says_it_in_the_rows_and_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], per: str, fmt: str
) -> None:
    src, out = _series(tmp_path), tmp_path / "out"
    assert main(["convert", str(src), str(out), "--quiet", "--format", fmt, "--per", per]) == 0
    rows = {r["source"]: r["problems"] for r in read_manifest(out / "manifest.csv")}
    assert rows == ({"s0.dcm": "", "s1.dcm": NOTE} if per == "instance" else {"s0.dcm": NOTE})
    assert "(BurnedInAnnotation (0028,0301) YES 1)" in capsys.readouterr().out


def test_a_value_neither_yes_nor_no_is_said_unsure_and_not_shown() -> None:
    ds = pydicom.Dataset()
    ds.BurnedInAnnotation = "MAYBE"
    note = burned_in_note(ds)
    assert note is not None and "MAYBE" not in note
    assert note.startswith("BurnedInAnnotation (0028,0301) neither YES nor NO: the pixels may ")
    ds.BurnedInAnnotation = "NO "
    assert burned_in_note(ds) is None
