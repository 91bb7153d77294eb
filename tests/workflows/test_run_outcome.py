"""What `radpipe run` tells the user at the end, as a user sees it: a run without an internal
test set has no report to point at, and files that could not be converted make it exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import main_in
from workflows.cli import main
from workflows.commands.run import print_outcome

ROOT = Path(__file__).resolve().parents[2]


def test_no_test_split_and_a_broken_file_through_the_cli(tmp_path: Path) -> None:
    write_study(tmp_path / "s", StudySpec(patients=12, modality="CR", size=16,
                                          series_per_patient=1))  # fmt: skip
    broken = sorted((tmp_path / "s" / "dicom").rglob("*.dcm"))[0]
    broken.write_bytes(broken.read_bytes()[:300])  # cut short inside the header
    _text_report(tmp_path / "s" / "dicom" / "report.dcm")  # no image: skipped, not a failure
    cmd = ["run", str(ROOT / "configs/xray_classify.yaml"),
           "--set", f"data.source={tmp_path / 's' / 'dicom'}",
           "--set", f"data.labels={tmp_path / 's' / 'labels.csv'}",
           "--set", f"output={tmp_path / 'runs'}", "--set", "split.test=0",
           "--set", "train.epochs=1", "--set", "convert.workers=1", "--quiet"]  # fmt: skip
    done = main_in(tmp_path, *cmd)  # in this process: the interpreter is not what is tested
    assert done.returncode == 1, done.stderr  # trained on the rest, then said and exit 1
    again = main_in(tmp_path, *cmd)
    assert again.returncode == 1 and "(reused the cached conversion)" in again.stdout
    assert "1 source file could not be converted" in again.stderr  # the report is not counted
    (run_dir, _) = sorted((tmp_path / "runs").glob("xray_classify-*"))
    assert (run_dir / "checkpoints" / "best.pt").is_file()
    provenance = json.loads((run_dir / "provenance.json").read_text())
    assert provenance["failed_files"] == 1  # the run directory's record of it
    assert not (run_dir / "report.html").exists() and "report:" not in done.stdout
    assert "test metrics:  none: split.test is 0 (no internal test set)" in done.stdout
    assert f"radpipe evaluate {run_dir.relative_to(tmp_path)} SRC --labels CSV" in done.stdout
    assert "1 source file could not be converted and was left out; see " in done.stderr
    errors = done.stderr.split("; see ")[-1].split()[0]
    rel = broken.relative_to(tmp_path / "s" / "dicom").as_posix()
    assert rel in (tmp_path / errors).read_text()


def _text_report(path: Path) -> None:
    """A DICOM Basic Text SR: a valid DICOM file with no image."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.88.11", generate_uid()
    ds.PatientID, ds.Modality = "P-report", "SR"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)


def test_a_run_with_test_figures_points_at_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "report.html").write_text("<html></html>")
    outcome = SimpleNamespace(run_dir=tmp_path, metrics={"x": 1}, headline={"accuracy": 0.5},
                              reused_conversion=False, failed_files=0, conversion=None)  # fmt: skip
    print_outcome(outcome)
    out = capsys.readouterr()
    assert "report.html" in out.out and "test metrics:  accuracy 0.500" in out.out
    assert out.err == ""
    (tmp_path / "report.html").unlink()  # report.enabled: false
    print_outcome(outcome)
    assert "report:        off (report.enabled)" in capsys.readouterr().out


def _run(tmp_path: Path, study: Path, *sets: str) -> Any:
    settings = [
        f"data.source={study / 'dicom'}",
        f"data.labels={study / 'labels.csv'}",
        f"output={tmp_path / 'runs'}",
        "train.epochs=1",
        "convert.workers=1",
        *sets,
    ]
    return main_in(tmp_path, "run", str(ROOT / "configs/xray_classify.yaml"),
                   *[x for s in settings for x in ("--set", s)], "--quiet")  # fmt: skip


def test_a_validation_metric_without_a_validation_split_is_refused_before_training(
    tmp_path: Path,
) -> None:
    """xray_classify.yaml monitors val_loss: with split.val 0 the config is refused at once.
    (A ratio split gives the validation part a patient whenever split.val > 0; the refusal of
    an empty one made otherwise: tests/runner/test_empty_test_split.py.)"""
    write_study(tmp_path / "s", StudySpec(patients=3, modality="CR", size=16,
                                          series_per_patient=1))  # fmt: skip
    done = _run(tmp_path, tmp_path / "s", "split.val=0")
    assert done.returncode == 2
    assert "train.monitor 'val_loss' needs a validation split, but split.val is 0" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_a_model_that_cannot_take_the_images_is_refused_before_training(
    seg_study: Path, tmp_path: Path
) -> None:
    """The U-Net config with series samples: (1, 6, 64, 64) volumes, whose depth 6 is not a
    multiple of 16. One line naming the model, the shape and the reason; no traceback."""
    settings = [f"data.source={seg_study / 'dicom'}", f"data.masks={seg_study / 'masks.csv'}",
                f"data.labels={seg_study / 'labels.csv'}", f"output={tmp_path / 'runs'}",
                "data.unit=series", "train.epochs=1", "convert.workers=1"]  # fmt: skip
    done = main_in(tmp_path, "run", str(ROOT / "configs/mr_segment_unet.yaml"),
                   *[x for s in settings for x in ("--set", s)], "--quiet")  # fmt: skip
    assert done.returncode == 2, done.stderr  # a config error
    assert "Traceback" not in done.stderr
    assert ("model.type 'unet' cannot take the preprocessed images (shape (1, 6, 64, 64): "
            "channels, then spatial sizes): UNet needs spatial sizes that are multiples of 16"
            ) in done.stderr  # fmt: skip
    assert not list((tmp_path / "runs").glob("mr_segment_unet-*"))  # nothing trained: removed


def test_the_model_check_changes_nothing() -> None:
    import torch

    from pipeline.errors import RadpipeError
    from workflows.run.checks import check_model_takes
    from workflows.run.runner import build_model

    model = build_model({"type": "unet", "features": [4, 4, 8, 8, 16, 4]}, [1, 32, 32], 2)
    model.train()
    before_rng = torch.get_rng_state()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    check_model_takes(model, [[1, 32, 32]], "unet")
    assert model.training and torch.equal(torch.get_rng_state(), before_rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(RadpipeError, match="multiples of 16"):
        check_model_takes(model, [[1, 32, 32], [1, 24, 32]], "unet")
    assert model.training


def test_sigterm_stops_the_run_with_its_last_epoch_written(tmp_path: Path) -> None:
    """A batch scheduler's SIGTERM: the run stops as on Ctrl-C, the last finished epoch's
    checkpoint is written (held until then by checkpoint_interval_s), the resume command is
    printed, exit 143."""
    import signal

    write_study(tmp_path / "s", StudySpec(patients=12, modality="CR", size=16,
                                          series_per_patient=1))  # fmt: skip
    settings = [f"data.source={tmp_path / 's' / 'dicom'}",
                f"data.labels={tmp_path / 's' / 'labels.csv'}", f"output={tmp_path / 'runs'}",
                "train.epochs=500", "train.early_stopping=null", "convert.workers=1",
                "train.checkpoint_interval_s=3600", "compute.threads=1"]  # fmt: skip
    cmd = [sys.executable, "-m", "workflows.cli", "run", str(ROOT / "configs/xray_classify.yaml"),
           *[x for s in settings for x in ("--set", s)]]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if "epoch 3/500" in line:
            proc.send_signal(signal.SIGTERM)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 143, rest
    (run_dir,) = (tmp_path / "runs").glob("xray_classify-*")
    # the command as the run directory was shown, relative to the working directory (it
    # printed the absolute path, which README says no terminal line does below the cwd)
    said = f"terminated (SIGTERM); continue with:\n  radpipe run --resume runs/{run_dir.name}\n"
    assert said in rest and str(tmp_path) not in rest
    from workflows.train.checkpoint import load_checkpoint

    last = load_checkpoint(run_dir / "checkpoints" / "last.pt")["epoch"]
    logged = [x for x in (run_dir / "log.jsonl").read_text().splitlines() if x.strip()]
    assert last >= 3 and last == len(logged)  # the epoch it had finished, not a partial one


def test_a_source_with_no_image_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty folder was "No image in SRC could be converted; see errors.csv" with an empty
    errors.csv; a folder of reports or plans alone said the same."""
    from pydicom.data import get_testdata_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "plans").mkdir()
    plan = Path(str(get_testdata_file("rtplan.dcm", download=False)))
    (tmp_path / "plans" / "plan.dcm").write_bytes(plan.read_bytes())
    (tmp_path / "labels.csv").write_text("series_uid,label\n1.2.3,0\n")
    # an empty folder is a config error before any work (exit 2, no run directory) since
    # 2026-12-03; a folder whose files are no images is known only after reading them (1)
    for folder, said, code in (
        ("empty", "data.source: no file in empty (an empty folder?)", 2),
        ("plans", "No image in plans: its 1 file is not an image", 1),
    ):
        config = tmp_path / f"{folder}.yaml"
        config.write_text(
            f"task: classification\noutput: out\ndata: {{source: {folder}, labels: labels.csv}}\n"
            "model: {type: mlp_classifier}\n"
        )
        assert main(["run", str(config), "--quiet"]) == code
        assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    ("no_test", "kind", "how"),
    [
        ("split.test is 0", "dicom", "score the run on a labelled folder with `radpipe evaluate "
         "runs/r SRC --labels CSV`"),
        ("split.column 'part' marks no row 'test'", "dicom", "score the run on a labelled "
         "folder with `radpipe evaluate runs/r SRC --labels CSV`"),
        ("split.column 'part' marks no row 'test'", "images", "evaluate and predict read "
         "DICOM only: to score images, run again with them marked 'test' in split.column"),
    ],
    ids=["split-test-0", "column-dicom", "column-images"],
)  # fmt: skip
def test_the_reason_for_no_test_set_comes_with_the_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    no_test: str, kind: str, how: str,
) -> None:  # fmt: skip
    """print_outcome read the run's config.yaml again for the reason (and the data kind);
    the outcome now carries both, so a run directory without it prints the same line."""
    from workflows.run.runner import RunOutcome

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "r").mkdir(parents=True)  # no config.yaml in it
    outcome = RunOutcome(run_dir=tmp_path / "runs" / "r", metrics={}, headline={},
                         reused_conversion=False, no_test=no_test, kind=kind)  # fmt: skip
    print_outcome(outcome)
    out = capsys.readouterr().out.splitlines()
    assert out == ["run directory: runs/r", f"test metrics:  none: {no_test} (no internal test "
                   f"set); {how}"]  # fmt: skip


def test_a_run_without_a_test_set_says_why_in_its_outcome(tmp_path: Path) -> None:
    """split.test 0 and a k-fold run without a held-out test set: the reason the run's own
    config gives, as the runner's log says it; a run with a test set has none."""
    from workflows.run.config import load_config
    from workflows.run.runner import run_study

    write_study(tmp_path / "s", StudySpec(patients=12, modality="CR", size=16,
                                          series_per_patient=1))  # fmt: skip
    base = [f"data.source={tmp_path / 's' / 'dicom'}", f"output={tmp_path / 'runs'}",
            f"data.labels={tmp_path / 's' / 'labels.csv'}", "train.epochs=1",
            "convert.workers=1", "report.enabled=false"]  # fmt: skip
    for sets, reason in ((["split.test=0"], "split.test is 0"),
                         (["split.folds=2", "split.test=0"], "split.test is 0"),
                         ([], None)):  # fmt: skip
        config = load_config(ROOT / "configs/xray_classify.yaml", base + sets)
        outcome = run_study(config, progress=False)
        assert outcome is not None
        assert (outcome.no_test, outcome.kind, bool(outcome.metrics)) == (
            reason, "dicom", reason is None)  # fmt: skip
