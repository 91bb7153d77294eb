"""``radpipe predict`` says when new images have another pixel size after preprocessing than
the run's training images: the model sees their anatomy at another scale (it said nothing)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.sample import Sample
from pipeline.stage import Pipeline
from pipeline.stages import Resize
from tests.runner.conftest import read_rows
from workflows.cli import main
from workflows.run.scale import trained_pixel_range


def test_training_pixel_range_is_taken_after_preprocessing() -> None:
    """8x8 pixels of 0.5 mm and 16x16 of 0.25 mm, both resized to 4x4: 1 mm pixels each;
    a 4x4 image of 3 x 2 mm pixels stays as it is."""
    samples = [
        Sample(np.zeros((1, 8, 8), np.float32), meta={"spacing": (0.5, 0.5)}),
        Sample(np.zeros((1, 16, 16), np.float32), meta={"spacing": (0.25, 0.25)}),
    ]
    resize = Pipeline([("r", Resize(shape=[4, 4]))])
    assert trained_pixel_range(resize, samples) == [1.0, 1.0]
    odd = Sample(np.zeros((1, 4, 4), np.float32), meta={"spacing": (3.0, 2.0)})
    assert trained_pixel_range(resize, [*samples, odd]) == [1.0, 3.0]
    assert trained_pixel_range(resize, [*samples, Sample(np.zeros((1, 4, 4), np.float32))]) is None


def test_training_pixel_range_after_a_crop_by_content_takes_every_image() -> None:
    """A foreground crop before a resize gives each image the pixel size of its own box: 16x16
    images of 0.5 mm with a 4, 8 and 16 pixel square of foreground, cropped to it and resized
    to 8x8, have 0.25, 0.5 and 1 mm pixels. One image per raw shape and spacing recorded
    [0.25, 0.25]: the run's own training images were then said to be of another scale."""
    from pipeline.stages import CropForeground

    def square(n: int) -> Sample:
        image = np.zeros((1, 16, 16), np.float32)
        image[0, :n, :n] = 1
        return Sample(image, meta={"spacing": (0.5, 0.5)})

    pipe = Pipeline([("c", CropForeground(threshold=0.5)), ("r", Resize(shape=[8, 8]))])
    assert trained_pixel_range(pipe, [square(4), square(8), square(16)]) == [0.25, 1.0]


def test_predict_says_which_images_have_another_pixel_size(
    cr16: Path, cr_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = sorted((cr16 / "dicom").rglob("*.dcm"))
    trained = float(pydicom.dcmread(files[0]).PixelSpacing[0])  # every synthetic CR: one size
    assert json.loads((cr_run / "stages" / "data.json").read_text())["pixel_mm"] == [
        pytest.approx(trained), pytest.approx(trained)]  # fmt: skip
    src = tmp_path / "src"
    shutil.copytree(cr16 / "dicom", src)
    for path in sorted(src.rglob("*.dcm"))[:3]:  # scanned at half the resolution
        ds = pydicom.dcmread(path)
        ds.PixelSpacing = [2 * float(v) for v in ds.PixelSpacing]
        ds.save_as(path)
    with caplog.at_level("WARNING", logger="radpipe"):
        assert (
            main(["predict", str(cr_run), str(src), "--out", str(tmp_path / "p"), "--quiet"]) == 0
        )
    assert len(read_rows(tmp_path / "p" / "predictions.csv")) == len(files)  # all predicted
    said = [r.getMessage() for r in caplog.records if "another scale" in r.getMessage()]
    size = f"{2 * trained:.4g}"
    assert len(said) == 1 and said[0].startswith(
        f"3 images of {len(files)} have a pixel size after preprocessing outside that of the "
        f"run's training images ({trained:.4g} mm; e.g. "
    )
    assert f": {size} x {size} mm): the model sees their anatomy at another scale" in said[0]
    # named by its source file below SRC (it was the hashed output, keys/keys/key_000.npy)
    shown = said[0].split("e.g. ")[1].split(": ")[0]
    assert (src / shown).is_file() and shown.endswith(".dcm"), shown
    caplog.clear()
    with caplog.at_level("WARNING", logger="radpipe"):  # the training images: nothing said
        assert main(["predict", str(cr_run), str(cr16 / "dicom"), "--out",
                     str(tmp_path / "q"), "--quiet"]) == 0  # fmt: skip
    assert not [r for r in caplog.records if "another scale" in r.getMessage()]


def test_images_without_a_pixel_size_are_said_when_the_training_images_had_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """28x28 images without PixelSpacing through a model trained on 1 mm pixels were
    predicted without a word: their scale cannot be checked."""
    from workflows.run.scale import note_other_scale

    found = [("a.dcm", None), ("b.dcm", (1.0, 1.0)), ("c.dcm", None)]
    with caplog.at_level("WARNING", logger="radpipe"):
        assert note_other_scale(found, [1.0, 1.0]) == 0  # none known to be of another size
        note_other_scale(found, None)  # training images without a pixel size: nothing said
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "2 images of 3 have no pixel size (no PixelSpacing or other spacing in the header, nor "
        "a spacing column in the image list; e.g. a.dcm), so whether the model sees their "
        "anatomy at the scale of its training images (1 mm after preprocessing) cannot be "
        "checked; check these predictions"
    ]


def test_a_k_fold_runs_range_spans_every_fold(tmp_path: Path) -> None:
    """Each fold trains on other images: predict and evaluate take the union of the folds'
    ranges (fold 0's alone called images like fold 1's training images another scale)."""
    from workflows.run.scale import runs_pixel_range

    folders = []
    for k, pixel_mm in enumerate(([0.5, 0.6], [0.4, 0.55], [0.5, 0.9])):
        stages = tmp_path / f"fold-{k}" / "stages"
        stages.mkdir(parents=True)
        (stages / "data.json").write_text(json.dumps({"shape": [1, 4, 4], "pixel_mm": pixel_mm}))
        folders.append(stages.parent)
    assert runs_pixel_range(folders) == [0.4, 0.9]
    assert runs_pixel_range(folders[:1]) == [0.5, 0.6]
    (folders[1] / "stages" / "data.json").write_text(json.dumps({"shape": [1, 4, 4]}))
    assert runs_pixel_range(folders) is None  # a fold without a range: nothing is said


def test_k_fold_predict_and_evaluate_use_every_folds_range(
    cr16: Path, kfold_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # fold 0 recorded at twice the training pixel size: its range alone would call every
    # training image another scale; fold 1's (the true size) is in the union, so nothing is
    run = tmp_path / "run"
    shutil.copytree(kfold_run, run)
    data = run / "folds" / "fold-0" / "stages" / "data.json"
    info = json.loads(data.read_text())
    info["pixel_mm"] = [2 * float(v) for v in info["pixel_mm"]]
    data.write_text(json.dumps(info))
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["predict", str(run), str(cr16 / "dicom"), "--out", str(tmp_path / "p"),
                     "--quiet"]) == 0  # fmt: skip
        assert main(["evaluate", str(run), str(cr16 / "dicom"), "--labels",
                     str(cr16 / "labels.csv"), "--out", str(tmp_path / "e"),
                     "--quiet"]) == 0  # fmt: skip
    assert not [r for r in caplog.records if "another scale" in r.getMessage()]
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert metrics["unlike_training"]["other_pixel_size"] == 0


def test_images_without_a_pixel_size_are_told_how_to_give_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A folder of PNGs given to predict has no pixel size at all: the warning says how to give
    one (a list CSV with a spacing column, as the README's 'Images already converted' says)."""
    from workflows.run.scale import note_other_scale

    with caplog.at_level("WARNING", logger="radpipe"):
        note_other_scale([("sub/n1.png", None), ("n2.png", None)], [0.5, 0.5])
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1
    assert said[0].endswith(
        "check these predictions (give SRC as a list CSV with an 'image' and a 'spacing' "
        "column, mm, as for a run's list: README, Images already converted)"
    )
