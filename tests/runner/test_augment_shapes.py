"""Augmentation the model cannot take, and a preprocessing stage that fails on the training
images: configuration errors before training (exit 2, the new run directory removed, no
advice to resume). Before, a random_crop larger than the preprocessed image stopped the first
epoch with the model's traceback, a random_rotate90 of a non-square plane with a batch error
advising a resize stage, and a resize of 3 sizes on 2-D images with a StageError naming a
hashed key; each kept the run directory and advised ``radpipe run --resume``, which keeps the
config and so could not work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from pipeline.registry import STAGES
from pipeline.sample import Sample
from tests.runner.conftest import write_rows
from workflows.cli import main


def _config(tmp_path: Path, **changes: Any) -> Path:
    """8 grey 24x24 PNGs, one patient each, all in the training split; ``changes`` replace
    top-level sections of the config."""
    src = tmp_path / "images"
    src.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(8):
        Image.fromarray((rng.random((24, 24)) * 255).astype(np.uint8)).save(src / f"im{i}.png")
        rows.append({"image": f"im{i}.png", "label": "ab"[i % 2], "patient_id": f"p{i}"})
    write_rows(src / "labels.csv", rows)
    raw = {
        "task": "classification",
        "output": str(tmp_path / "runs"),
        "data": {"kind": "images", "source": str(src), "labels": str(src / "labels.csv")},
        "split": {"test": 0, "val": 0},
        "preprocess": [{"type": "resize", "shape": [16, 16]}],
        "model": {"type": "mlp_classifier", "hidden": [4]},
        "train": {"epochs": 1, "batch_size": 4, "device": "cpu"},
        "report": {"enabled": False},
    } | changes
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: Path) -> str:
    assert main(["run", str(config), "--quiet"]) == 2  # a config error
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--resume" not in err
    assert "nothing was trained: " in err and "change the config and run it again" in err
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name[0] != "."]  # caches aside
    return err


def test_a_crop_larger_than_the_model_takes_is_refused_naming_augment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    augment = [{"type": "random_flip", "p": 0.5}, {"type": "random_crop", "shape": [20, 20]}]
    err = _refused(tmp_path, capsys, _config(tmp_path, augment=augment))
    # 16x16 = 256 input features; the crop pads to 20x20 = 400
    assert (
        "model.type 'mlp_classifier' cannot take the training images as augment leaves them "
        "(preprocessed (1, 16, 16); changed by random_crop_1) (shape (1, 20, 20): "
    ) in err
    assert "built for 256 input features; got 400" in err
    assert "a stage that sets the size belongs in preprocess" in err


def test_a_quarter_turn_of_a_non_square_plane_is_refused_with_batches_of_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preprocess = [{"type": "resize", "shape": [16, 12]}]
    augment = [{"type": "random_rotate90", "p": 0.5}]
    config = _config(tmp_path, preprocess=preprocess, augment=augment)
    err = _refused(tmp_path, capsys, config)
    assert (
        "augment gives the training images several shapes (preprocessed (1, 16, 12); "
        "(1, 12, 16) after random_rotate90_0): images of different shapes cannot share a batch"
    ) in err


def test_a_preprocessing_stage_that_fails_on_the_images_names_the_image_and_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preprocess = [{"type": "resize", "shape": [16, 16, 3]}]  # 3 sizes for 2-D images
    err = _refused(tmp_path, capsys, _config(tmp_path, preprocess=preprocess))
    assert "preprocess: resize_0 cannot be applied to the training image im" in err
    assert "Expected image of shape (C, D, H, W) for a 3-axis size; got (1, 24, 24)." in err
    assert "Change preprocess in the config and run it again." in err


def test_a_preprocessing_stage_that_cannot_be_fitted_names_it_and_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stage's fit failed with a bare ValueError traceback (and advice to resume)."""
    preprocess = [{"type": "resize", "shape": [16, 16]}, {"type": "pca", "n_components": 100}]
    err = _refused(tmp_path, capsys, _config(tmp_path, preprocess=preprocess))
    assert (
        "preprocess: pca_1 cannot be applied to the 8 samples it is fitted on: n_components "
        "must be in [1, 8]; got 100. Change preprocess in the config and run it again."
    ) in err


def test_augmentation_that_keeps_the_shape_trains(tmp_path: Path) -> None:
    augment = [{"type": "random_rotate90", "p": 1.0}, {"type": "random_crop", "shape": [16, 16]}]
    assert main(["run", str(_config(tmp_path, augment=augment)), "--quiet"]) == 0


KEEPING = [n for n in STAGES.names() if STAGES.get(n).keeps_shape]


def test_the_shape_keeping_stages_are_the_flips_affine_maps_deformations_and_intensities() -> None:
    assert {"random_flip", "random_affine", "random_elastic", "random_gamma"} <= set(KEEPING)
    assert not {"random_crop", "random_rotate90", "resize"} & set(KEEPING)


@pytest.mark.parametrize("name", KEEPING)
def test_stages_said_to_keep_the_shape_keep_it(name: str) -> None:
    """The check before training skips ``keeps_shape`` stages: each must keep a non-square
    plane's shape on every draw, also applied (p 1)."""
    cls = STAGES.get(name)
    stage = cls(**{**cls.example().get_params(), "p": 1.0})
    sample = Sample(image=np.random.default_rng(0).random((1, 9, 14)), meta={"id": "x"})
    for seed in range(4):
        assert stage(sample, np.random.default_rng(seed)).image.shape == (1, 9, 14)


def test_a_crop_of_one_shape_the_model_takes_trains(tmp_path: Path) -> None:
    """Patches: every training image cropped to 12x12 from 16x16, one shape in every batch,
    for a model that takes both (a convolutional one, pooled over the plane)."""
    config = _config(
        tmp_path,
        augment=[{"type": "random_crop", "shape": [12, 12]}],
        model={"type": "cnn_classifier", "channels": [4]},
    )
    assert main(["run", str(config), "--quiet"]) == 0
