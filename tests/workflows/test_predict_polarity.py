"""MONAI Deploy #282 at inference: a model trained on MONOCHROME2 modality values
(`convert.window: none`, NPY) fed MONOCHROME1 images, whose grey scale runs the other way,
predicted them without a word."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pydicom
import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.run.config import load_config
from workflows.run.runner import run_study

CONFIGS = Path(__file__).parents[2] / "configs"


def _photometric(folder: Path, value: str) -> None:
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.PhotometricInterpretation = value
        ds.save_as(path)


@pytest.fixture(scope="module")
def monochrome2_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run trained on MONOCHROME2 CR images without a window, and its study folder."""
    data = tmp_path_factory.mktemp("train")
    write_study(data, StudySpec(patients=12, modality="CR", size=16, series_per_patient=1))
    _photometric(data / "dicom", "MONOCHROME2")
    settings = {"data.source": data / "dicom", "data.labels": data / "labels.csv",
                "output": data / "runs", "train.epochs": 1, "convert.workers": 1,
                "split.test": 0, "convert.window": "none", "evaluate.bootstrap": 0}  # fmt: skip
    config = load_config(CONFIGS / "xray_classify.yaml", [f"{k}={v}" for k, v in settings.items()])
    outcome = run_study(config, progress=False)
    assert outcome is not None
    return outcome.run_dir, data


@pytest.mark.parametrize(("kind", "warned"), [("MONOCHROME1", True), ("MONOCHROME2", False)])
def test_predict_says_when_new_images_have_the_other_grey_scale(
    monochrome2_run: tuple[Path, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    warned: bool,
) -> None:
    run, data = monochrome2_run
    src = tmp_path / "new"
    shutil.copytree(data / "dicom", src)
    _photometric(src, kind)
    n = len(list(src.rglob("*.dcm")))
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert main(["predict", str(run), str(src), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    images = f"{n} image{'s are' if n != 1 else ' is'}"
    said = f"{images} MONOCHROME1 held as modality values (convert.window: none)"
    assert (said in caplog.text) is warned
