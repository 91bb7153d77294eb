"""MONAI's multi-sample transforms (``RandCropByPosNegLabeld``, ``RandSpatialCropSamplesd``,
``GridSplitd``) return a list of samples: ``MonaiTransform`` failed on every one of them with
``TypeError: list indices must be integers or slices, not str``, whatever ``num_samples``.
Now ``num_samples: 1`` gives the one crop, another count is a config error naming the stage,
and a transform that returns several samples anyway fails naming the transform."""

from __future__ import annotations

import monai.transforms as mt
import numpy as np
import pytest
from monai.utils import convert_to_numpy

from pipeline.errors import ConfigError, StageError
from pipeline.sample import Sample
from pipeline.stages import MonaiTransform
from workflows.run.config import validate_config

_CROP = {"keys": ["image", "mask"], "label_key": "mask", "spatial_size": [4, 4], "pos": 1.0,
         "neg": 0.0}  # fmt: skip


def _sample() -> Sample:
    image = np.arange(64, dtype=np.float32).reshape(1, 8, 8)  # value = 8 * row + column
    mask = np.zeros((8, 8), np.uint8)
    mask[5:7, 1:3] = 1
    return Sample(image=image, mask=mask, meta={"id": "case0", "spacing": (0.5, 0.5)})


def test_one_sample_is_the_crop_monai_makes() -> None:
    sample = _sample()
    stage = MonaiTransform(transform="RandCropByPosNegLabeld", args={**_CROP, "num_samples": 1})
    out = stage(sample, np.random.default_rng(3))
    assert out.image.shape == (1, 4, 4) and out.mask is not None and out.mask.shape == (4, 4)
    top = int(out.image[0, 0, 0])
    row, col = divmod(top, 8)  # the window the crop took, read back from the image values
    np.testing.assert_array_equal(out.image[0], sample.image[0, row : row + 4, col : col + 4])
    np.testing.assert_array_equal(out.mask, sample.mask[row : row + 4, col : col + 4])
    assert out.mask.any()  # pos=1: centred on a foreground pixel (rows 5-6, columns 1-2)
    assert out.meta["spacing"] == (0.5, 0.5)
    direct = mt.RandCropByPosNegLabeld(**_CROP, num_samples=1)
    direct.set_random_state(seed=out.meta["applied"][-1]["seed"])
    (expected,) = direct({"image": sample.image, "mask": sample.mask[None].astype(np.float32)})
    np.testing.assert_array_equal(out.image, convert_to_numpy(expected["image"]))


@pytest.mark.parametrize(
    ("transform", "args", "count"),
    [
        ("RandCropByPosNegLabeld", {**_CROP, "num_samples": 4}, 4),
        (
            "RandSpatialCropSamplesd",
            {"keys": ["image", "mask"], "roi_size": [4, 4], "num_samples": 2},
            2,
        ),
    ],
)
def test_several_samples_are_a_config_error(transform: str, args: dict, count: int) -> None:
    raw = {"task": "segmentation", "data": {"source": "d"}, "model": {"type": "mlp_segmenter"},
           "augment": [{"type": "monai", "transform": transform, "args": args}]}  # fmt: skip
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    assert str(err.value) == (
        f"config: augment: item 0 (monai): MonaiTransform({transform!r}): num_samples={count} "
        f"would make {count} samples of each one, but a stage returns one sample for one (the "
        "dataset yields one item per image): set num_samples to 1 (every epoch then draws a "
        "new crop of each image)."
    )


def test_a_list_of_several_samples_names_the_transform() -> None:
    stage = MonaiTransform(transform="GridSplitd", args={"keys": ["image", "mask"], "grid": [2, 2]})
    with pytest.raises(StageError) as err:
        stage(_sample())
    assert str(err.value) == (
        "MonaiTransform failed on case0: GridSplitd returned 4 samples (a list); a stage returns "
        "one sample for one."
    )
