"""A preprocess crop placed by the mask (the truth) is refused: preprocessing runs on the test
images too, which were cut to the box of their own true mask (an optimistic evaluation)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.errors import ConfigError
from workflows.run.config import validate_config


def _config(preprocess: list[dict[str, Any]], augment: list[dict[str, Any]] | None = None) -> Any:
    return validate_config(
        {
            "task": "segmentation",
            "data": {"source": "s/dicom", "masks": "s/masks.csv"},
            "preprocess": preprocess,
            "augment": augment or [],
            "model": {"type": "mlp_segmenter"},
        }
    )


@pytest.mark.parametrize(
    "stage",
    [
        {"type": "crop_foreground", "source": "mask", "margin": 2},
        {"type": "monai", "transform": "CropForegroundd",
         "args": {"keys": ["image", "mask"], "source_key": "mask"}},
    ],
    ids=["crop_foreground", "monai-CropForegroundd"],
)  # fmt: skip
def test_a_preprocess_crop_by_the_mask_is_refused(stage: dict[str, Any]) -> None:
    # the run evaluated its test images cut to their truth's box: Dice 0.40 for 0.01 uncropped
    with pytest.raises(ConfigError, match=r"preprocess item 1 \(.*\) crops each image to the box "):
        _config([{"type": "z_score"}, stage])


def test_the_same_crop_by_the_image_or_under_augment_is_accepted() -> None:
    _config([{"type": "crop_foreground", "source": "image", "threshold": -500}])
    _config([], augment=[{"type": "crop_foreground", "source": "mask"}])
