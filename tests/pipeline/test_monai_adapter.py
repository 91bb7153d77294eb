"""MonaiTransform: a MONAI transform as a stage, checked against MONAI applied directly."""

from __future__ import annotations

from pathlib import Path

import monai.transforms as mt
import numpy as np
import pytest
from monai.utils import convert_to_numpy

from pipeline.errors import StageError
from pipeline.stage import Pipeline
from pipeline.stages import MonaiTransform
from tests.conftest import make_sample
from workflows.run.config import validate_config


def test_array_intensity_transform_matches_monai() -> None:
    sample = make_sample(1)
    stage = MonaiTransform(transform="ScaleIntensity", args={"minv": 0.0, "maxv": 1.0})
    out = stage(sample)
    expected = convert_to_numpy(mt.ScaleIntensity(minv=0.0, maxv=1.0)(sample.image))
    np.testing.assert_allclose(out.image, expected, rtol=0, atol=0)
    assert out.image.min() == 0.0 and out.image.max() == 1.0
    assert out.mask is sample.mask and out.meta == sample.meta
    assert not stage.random and stage.kind == "intensity"


def test_random_transform_is_seeded_from_the_stage_generator() -> None:
    sample = make_sample(2)
    stage = MonaiTransform(transform="RandGaussianNoise", args={"prob": 1.0, "std": 5.0})
    out = stage(sample, np.random.default_rng(7))
    applied = out.meta["applied"][-1]
    assert stage.random and applied["stage"] == "MonaiTransform"
    monai_noise = mt.RandGaussianNoise(prob=1.0, std=5.0)
    monai_noise.set_random_state(seed=applied["seed"])
    np.testing.assert_array_equal(out.image, convert_to_numpy(monai_noise(sample.image)))
    again = stage(sample, np.random.default_rng(7))
    other = stage(sample, np.random.default_rng(8))
    np.testing.assert_array_equal(again.image, out.image)
    assert not np.array_equal(other.image, out.image)


def test_dictionary_transform_moves_image_and_mask_together() -> None:
    sample = make_sample(3)
    args = {"keys": ["image", "mask"], "range_x": 0.5, "prob": 1.0, "mode": ["bilinear", "nearest"]}
    stage = MonaiTransform(transform="RandRotated", args=args)
    out = stage(sample, np.random.default_rng(0))
    seed = out.meta["applied"][-1]["seed"]
    direct = mt.RandRotated(**args)
    direct.set_random_state(seed=seed)
    expected = direct({"image": sample.image, "mask": sample.mask[None].astype(np.float32)})
    np.testing.assert_allclose(out.image, convert_to_numpy(expected["image"]), atol=1e-6)
    np.testing.assert_array_equal(out.mask, convert_to_numpy(expected["mask"])[0])
    assert out.mask is not None and sample.mask is not None
    assert out.mask.dtype == sample.mask.dtype and not np.array_equal(out.mask, sample.mask)


def test_spacing_follows_the_affine() -> None:
    sample = make_sample(4, size=32)  # spacing (1.0, 1.0)
    args = {"keys": ["image", "mask"], "pixdim": [2.0, 2.0], "mode": ["bilinear", "nearest"]}
    out = MonaiTransform(transform="Spacingd", args=args)(sample)
    assert out.image.shape == (1, 16, 16) and out.mask is not None and out.mask.shape == (16, 16)
    assert out.meta["spacing"] == (2.0, 2.0)


def test_unsafe_uses_are_refused() -> None:
    sample = make_sample(5)
    with pytest.raises(StageError, match=r"not an intensity transform.*dictionary version"):
        MonaiTransform(transform="Rotate", args={"angle": 0.3})(sample)
    blend = {"keys": ["image", "mask"], "angle": 0.3, "mode": "bilinear"}
    with pytest.raises(StageError, match="blended the mask"):
        MonaiTransform(transform="Rotated", args=blend)(sample)
    with pytest.raises(ValueError, match=r"must name a class in monai\.transforms"):
        MonaiTransform(transform="NotATransform")
    with pytest.raises(ValueError, match="MonaiTransform\\('ScaleIntensity'\\)"):
        MonaiTransform(transform="ScaleIntensity", args={"no_such_argument": 1})


def test_saved_and_loaded_by_name_and_arguments(tmp_path: Path) -> None:
    spec = {"type": "monai", "transform": "RandGaussianNoise", "args": {"prob": 1.0, "std": 2.0}}
    pipe = Pipeline.from_config([{"name": "noise", **spec}])
    assert pipe.to_config() == [{"name": "noise", **spec}]
    pipe.save(tmp_path)
    loaded = Pipeline.load(tmp_path)
    sample = make_sample(6)
    a, b = pipe(sample, np.random.default_rng(1)), loaded(sample, np.random.default_rng(1))
    np.testing.assert_array_equal(a.image, b.image)
    raw = {"task": "classification", "data": {"source": "d"}, "model": {"type": "mlp_classifier"},
           "augment": [spec]}  # fmt: skip
    assert validate_config(raw).augment == [spec]
