from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

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


def test_evaluate_help_says_what_src_is_for_an_images_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # it said "folder of DICOM files (or images, as the run)", then that such a run is refused;
    # since 2026-12-03 an images run is evaluated on a folder its --labels list names files in
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "or images, as the run" not in out and "is refused" not in out
    assert "a run trained on data.kind: images: the folder that --labels' image and" in out


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


def test_a_window_with_a_negative_center_is_taken_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--window -600,1500` (the lung window as C,W, as README writes it) was argparse's
    "expected one argument": a value starting with a minus was taken for an option. The PNG
    is the DICOM LINEAR window of the HU (PS3.3 C.11.2.1.2), worked out here with pydicom."""
    from pipeline.synth import StudySpec, write_study

    write_study(tmp_path / "s", StudySpec(patients=1, modality="CT", size=16, slices=2,
                                          series_per_patient=1))  # fmt: skip
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "s" / "dicom"), str(out), "--window", "-600,1500",
                 "--quiet"]) == 0  # fmt: skip
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert len(rows) == 2 and {r["window"] for r in rows} == {"-600,1500"}
    for r in rows:
        ds = pydicom.dcmread(tmp_path / "s" / "dicom" / r["source"])
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        expected = np.round(np.clip((hu - (-600 - 0.5)) / (1500 - 1) + 0.5, 0, 1) * 255)
        assert np.array_equal(np.asarray(Image.open(out / r["output"])), expected)
    capsys.readouterr()
    assert main(["convert", str(tmp_path / "s" / "dicom"), str(out), "--window", "-600"]) == 2
    assert "Unknown window '-600'" in capsys.readouterr().err  # still said as a bad window


def test_log_lines_go_to_stderr_as_it_is_when_they_are_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The handler kept the sys.stderr of its set-up: once that stream was replaced and closed
    (a notebook cell, pytest's capture), every later line was '--- Logging error ---' with a
    traceback instead of the message."""
    import io
    import logging

    from workflows.commands.logs import setup_logging

    logger = logging.getLogger("radpipe")
    monkeypatch.setattr(logger, "handlers", [])
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    setup_logging()
    logger.info("one")
    first.close()
    monkeypatch.setattr("sys.stderr", second)
    logger.info("two")
    assert second.getvalue() == "radpipe: two\n"


def test_another_handler_does_not_stand_in_for_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A handler of someone else's on the ``radpipe`` logger (a notebook's, a test's) made the
    set-up return early: the command's warnings then reached no terminal (a suite run's
    'nothing was trained' line went missing whenever such a handler came first)."""
    import io
    import logging

    from workflows.commands.logs import setup_logging

    logger = logging.getLogger("radpipe")
    theirs = logging.NullHandler()
    monkeypatch.setattr(logger, "handlers", [theirs])
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr("sys.stderr", stream := io.StringIO())
    setup_logging()
    setup_logging()  # once: no second terminal handler
    logger.warning("seen")
    assert stream.getvalue() == "radpipe: seen\n"
    assert logger.handlers[0] is theirs and len(logger.handlers) == 2
