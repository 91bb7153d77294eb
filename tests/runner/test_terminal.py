"""What ``radpipe run`` shows while it works ("Also"): the run directory first, one line per
epoch (epoch k/N, training loss, monitored metric), and on Ctrl-C the exact resume command,
which then finishes the run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from tests.runner.conftest import base_config
from workflows.cli import main
from workflows.train import loop


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_run_shows_its_directory_epochs_and_how_to_resume(
    cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    raw = base_config(cr16, tmp_path / "out")
    raw["train"]["epochs"] = 2
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(raw))
    real_train = loop.train

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "train", interrupted)
    # The CLI's log handler writes to the stderr of its time: make it this test's.
    monkeypatch.setattr(logging.getLogger("radpipe"), "handlers", [])
    # the run directory outside the working directory, below the home folder: the advice
    # named it by its absolute path (no absolute local path in what radpipe prints)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["run", str(config), "--quiet"]) == 130
    (run,) = (tmp_path / "out").glob("run-*")
    lines = _lines(capsys)
    assert lines[0] == f"radpipe: run directory: ~/out/{run.name}"  # absolute until 2026-12-03
    resume = f"  radpipe run --resume ~/out/{run.name}"
    assert lines[-2:] == ["interrupted; continue with:", resume]

    monkeypatch.setattr(loop, "train", real_train)
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    lines = [m.removeprefix("radpipe: ") for m in _lines(capsys)]
    assert lines[0] == f"resuming ~/out/{run.name}"
    epochs = [m for m in lines if m.startswith("epoch ")]
    assert [m.split()[1] for m in epochs] == ["1/2", "2/2"]
    assert all("train_loss " in m and "val_accuracy " in m for m in epochs), epochs
    assert (run / "metrics.json").is_file()


def test_the_epoch_line_names_the_training_loss_once_without_validation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """It read "train_loss 0.7676  train_loss 0.7676" when there was no validation metric."""
    from workflows.run.config import validate_config
    from workflows.run.runner import epoch_reporter

    report = epoch_reporter(validate_config(base_config(tmp_path, tmp_path)), None)
    with caplog.at_level(logging.INFO, logger="radpipe"):
        report(1, {"train_loss": 0.76764})
        report(2, {"train_loss": 0.5, "val_accuracy": 0.75})
    assert [r.getMessage() for r in caplog.records] == [
        "epoch 1/1  train_loss 0.7676",
        "epoch 2/1  train_loss 0.5000  val_accuracy 0.7500",
    ]


def test_python_warnings_are_one_radpipe_line_without_source_paths(
    cr_run: Path, cr16: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An external set with one class: the undefined average precision was printed as
    Python's ``/abs/path/classification.py:125: RuntimeWarning: ...`` plus the source line,
    and matplotlib warned twice about an empty legend."""
    import csv

    with (cr16 / "labels.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["label"] == "0"]
    one = tmp_path / "one.csv"
    with one.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    args = ["evaluate", str(cr_run), str(cr16 / "dicom"), "--labels", str(one)]
    assert main([*args, "--out", str(tmp_path / "ev")]) == 0
    out, err = capsys.readouterr()
    assert "radpipe: warning: ROC AUC is undefined" in err
    # average precision's was a warning too; now a line under the figures, as ROC AUC's
    assert "Average precision is undefined" not in err
    assert "average precision is undefined: no test case is of the positive class" in out
    assert ".py:" not in err and "Warning:" not in err and "legend" not in err, err
