"""``radpipe inspect``: text and JSON output, problems, exit codes, index.csv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inspect_study")
    write_study(out, StudySpec(patients=2, modality="MR", size=16, slices=5, seed=2))
    return out / "dicom"


def test_clean_folder_lists_series_exit_0(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(study)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("20 files, 20 images in 4 series of 2 patients")
    assert "MR  'COR T2'" in out and "16x16  5 slices" in out and "SYNMR" not in out


def test_missing_slice_and_junk_reported_exit_1(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    folder = tmp_path / "scan"
    shutil.copytree(study, folder)
    assert main(["inspect", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    series = summary["patients"][0]["studies"][0]["series"][0]
    # Remove the middle slice of the first series (found by hashed key via index.csv).
    assert main(["inspect", str(folder), "--index", str(tmp_path / "index.csv")]) == 0
    capsys.readouterr()
    rows = (tmp_path / "index.csv").read_text().splitlines()[1:]
    middle = next(r for r in rows if series["series_key"] in r and ",2,5," in r)
    (folder / middle.split(",")[0]).unlink()
    (folder / "notes.txt").write_text("hello")
    assert main(["inspect", str(folder), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    reasons = [p["reason"] for p in summary["problems"]]
    assert any(r.startswith("resampled: missing slices: 1 gap(s)") for r in reasons), reasons
    assert {"where": "notes.txt", "reason": reasons[0], "kind": "error"} in summary["problems"]
    assert main(["inspect", str(folder)]) == 1
    text = capsys.readouterr().out
    assert "! resampled: missing slices" in text and "notes.txt: not a DICOM file" in text


def test_not_a_folder_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err
