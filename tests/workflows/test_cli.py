from __future__ import annotations

import csv
from pathlib import Path

import pytest

from workflows.cli import main


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "synth" in out and "demo" in out


def test_synth_help_explains(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    out = capsys.readouterr().out
    assert "--patients" in out and "labels.csv" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["synth", "x", "--patients", "0"], "expected a positive integer; got 0"),
        (["synth", "x", "--modality", "PET"], "invalid choice: 'PET'"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
    ids=["zero-patients", "bad-modality", "bad-command"],
)
def test_bad_argument_is_one_line_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_synth_writes_study(tmp_path: Path) -> None:
    code = main(
        [
            "synth",
            str(tmp_path),
            "--patients",
            "3",
            "--modality",
            "MR",
            "--task",
            "segmentation",
            "--size",
            "24",
            "--slices",
            "4",
        ]
    )
    assert code == 0
    assert len(list((tmp_path / "dicom").rglob("*.dcm"))) == 3 * 2 * 4
    masks = list(csv.DictReader((tmp_path / "masks.csv").open()))
    assert len(masks) == 24 and all((tmp_path / m["mask"]).exists() for m in masks)
