"""The shipped configs of issue 17 run end to end on small synthetic studies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.run.config import load_config
from workflows.run.runner import run_study
from workflows.train.checkpoint import load_checkpoint

CONFIGS = Path(__file__).parents[2] / "configs"


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def cr_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cr")
    write_study(out, StudySpec(patients=24, modality="CR", size=32, series_per_patient=1))
    return out


@pytest.fixture(scope="module")
def mr_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mr")
    write_study(out, StudySpec(patients=4, modality="MR", task="segmentation", size=32, slices=3))
    return out


def _run(name: str, study: Path, out: Path, extra: list[str]) -> Path:
    items = [
        f"data.source={study / 'dicom'}",
        f"data.labels={study / 'labels.csv'}",
        f"output={out}",
        "train.epochs=2",
        "convert.workers=1",
        "report.enabled=false",
    ]
    outcome = run_study(load_config(CONFIGS / f"{name}.yaml", items + extra), progress=False)
    assert outcome is not None
    return outcome.run_dir


def test_mixer_classifier_config(cr_study: Path, tmp_path: Path) -> None:
    run = _run("xray_classify_mixer", cr_study, tmp_path, ["split.test=0.3"])
    ckpt = load_checkpoint(run / "checkpoints" / "last.pt")
    assert ckpt["model_spec"]["type"] == "mixer_classifier"
    assert ckpt["model_spec"]["image_size"] == [28, 28]  # filled in from the data
    settings = ckpt["train_config"]
    assert (settings["warmup_epochs"], settings["label_smoothing"]) == (3, 0.1)
    assert (settings["monitor"], settings["monitor_ema"]) == ("val_loss", 0.6)
    rows = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and "val_loss_ema" in rows[0]
    assert rows[0]["lr"] == pytest.approx(1e-3 / 4)  # warm-up epoch 1 of 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["class_names"] == ["no_lesion", "round_lesion"]


@pytest.mark.parametrize(
    ("name", "model", "extra"),
    [
        # 32x32 images: a 2-token window keeps the padding (to a multiple of 4*4*2) small.
        ("mr_segment_mixer", "mixer_unet", ["model.window=2"]),
        ("mr_segment_reseg", "reseg_unet", []),
    ],
)
def test_segmentation_model_configs(
    name: str, model: str, extra: list[str], mr_study: Path, tmp_path: Path
) -> None:
    extra = [f"data.masks={mr_study / 'masks.csv'}", "preprocess.0.shape=[32,32]", *extra]
    run = _run(name, mr_study, tmp_path, extra)
    assert load_checkpoint(run / "checkpoints" / "last.pt")["model_spec"]["type"] == model
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "segmentation"
    assert metrics["class_names"] == ["background", "organ", "lesion"]
