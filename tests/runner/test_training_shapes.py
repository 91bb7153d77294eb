"""Training images of several shapes after preprocessing (a folder of images of two sizes, no
resize stage): refused before training, each shape counted and one image of it named. Before,
the first batch that mixed them stopped training with a message naming only that batch, or,
with every image in one batch, nothing until then."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from tests.runner.conftest import write_rows
from workflows.cli import main


def _folder(root: Path, wide: set[int]) -> Path:
    """12 grey PNGs, one patient each, 32x32 except those in ``wide`` (40 rows x 32)."""
    src = root / "images"
    src.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(12):
        size = (40, 32) if i in wide else (32, 32)
        Image.fromarray((rng.random(size) * 255).astype(np.uint8)).save(src / f"im{i:02d}.png")
        rows.append({"image": f"im{i:02d}.png", "label": "ab"[i % 2], "patient_id": f"p{i}"})
    write_rows(src / "labels.csv", rows)
    return src


def _config(tmp_path: Path, src: Path, batch_size: int) -> Path:
    raw = {
        "task": "classification",
        "output": str(tmp_path / "runs"),
        "data": {"kind": "images", "source": str(src), "labels": str(src / "labels.csv")},
        "split": {"test": 0, "val": 0},  # every image in the training split
        "preprocess": [{"type": "z_score", "mode": "image"}],
        "model": {"type": "mlp_classifier", "hidden": [4]},
        "train": {"epochs": 1, "batch_size": batch_size, "device": "cpu"},
        "report": {"enabled": False},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_images_of_two_sizes_are_refused_before_training_naming_one_of_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _folder(tmp_path, wide={3, 7, 8})
    # batch 16 > 12 images: one batch would hold them all
    assert main(["run", str(_config(tmp_path, src, 16)), "--quiet"]) == 2  # a config error
    err = capsys.readouterr().err
    assert (
        "The training images differ in shape after preprocessing: 9 of shape (1, 32, 32) "
        "(e.g. im00.png), 3 of shape (1, 40, 32) (e.g. im03.png)."
    ) in err
    assert "Traceback" not in err
    # nothing was trained: no run directory is left, and no advice to resume it (a resumed
    # run keeps its config, so the refusal came back: the advice could not be followed)
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name[0] != "."]  # caches aside
    assert "--resume" not in err
    assert "nothing was trained: " in err and "change the config and run it again" in err


def test_with_batch_size_1_every_shape_is_tried_on_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Batches of one image may differ in shape, if the model takes each: a fully connected
    model built for 32x32 is refused on the 40x32 images before training, not mid-epoch."""
    src = _folder(tmp_path, wide={5})
    assert main(["run", str(_config(tmp_path, src, 1)), "--quiet"]) == 2
    err = capsys.readouterr().err
    said = "model.type 'mlp_classifier' cannot take the preprocessed images (shape (1, 40, 32)"
    assert said in err
    assert "built for 1024 input features; got 1280" in err


def test_a_crop_by_content_is_checked_image_by_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``crop_foreground`` without a resize: images of one raw size come out in the size of
    their own foreground's box. They were checked once per raw shape (one image standing for
    all 12), so the mixed shapes surfaced only when the first batch was stacked."""
    src = tmp_path / "images"
    src.mkdir()
    rows = []
    for i in range(12):
        image = np.zeros((32, 32), np.uint8)
        side = 12 if i in (2, 5) else 8
        image[4 : 4 + side, 6 : 6 + side] = 200
        Image.fromarray(image).save(src / f"im{i:02d}.png")
        rows.append({"image": f"im{i:02d}.png", "label": "ab"[i % 2], "patient_id": f"p{i}"})
    write_rows(src / "labels.csv", rows)
    config = _config(tmp_path, src, 16)
    raw = yaml.safe_load(config.read_text())
    raw["preprocess"].insert(0, {"type": "crop_foreground", "threshold": 0})
    config.write_text(yaml.safe_dump(raw))
    assert main(["run", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        "The training images differ in shape after preprocessing: 10 of shape (1, 8, 8) "
        "(e.g. im00.png), 2 of shape (1, 12, 12) (e.g. im02.png)."
    ) in err
