"""Counts in messages have the noun in its number: ``1 file``, never ``1 files``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.words import are, counted


@pytest.mark.parametrize(
    ("n", "noun", "want"),
    [
        (0, "file", "0 files"),
        (1, "file", "1 file"),
        (2, "file", "2 files"),
        (1, "patient", "1 patient"),
        (5, "patient", "5 patients"),
        (1, "series", "1 series"),
        (3, "series", "3 series"),
        (2, "class", "2 classes"),
        (2, "study", "2 studies"),
        (1, "image file", "1 image file"),
        (4, "image file", "4 image files"),
        (2, "label row", "2 label rows"),
    ],
)
def test_counted(n: int, noun: str, want: str) -> None:
    assert counted(n, noun) == want


def test_are() -> None:
    assert (are(1), are(0), are(2), are(1, "has", "have"), are(3, "has", "have")) == (
        "is", "are", "are", "has", "have")  # fmt: skip


def test_inspect_and_convert_of_one_file_say_it_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One CR image: inspect said '1 files, 1 images in 1 series of 1 patients' and convert
    '1 outputs from 1 tasks'."""
    from pipeline.synth import StudySpec, write_study
    from workflows.cli import main

    write_study(tmp_path, StudySpec(patients=1, modality="CR", size=16, series_per_patient=1))
    assert main(["inspect", str(tmp_path / "dicom")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "1 file, 1 image in 1 series of 1 patient"
    assert main(["convert", str(tmp_path / "dicom"), str(tmp_path / "out"), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("1 output from 1 task (1 converted, 0 already")
