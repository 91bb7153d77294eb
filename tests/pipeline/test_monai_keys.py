"""MonaiTransform dictionary transforms on a sample with a mask: keys must keep them together."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import StageError
from pipeline.sample import Sample
from pipeline.stages import MonaiTransform


def _sample() -> Sample:
    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    mask = np.zeros((4, 4), np.uint8)
    mask[0, 1] = 1  # on image value 1
    return Sample(image=image, mask=mask, label=None, meta={})


@pytest.mark.parametrize(
    "transform, keys",
    [("Rotate90d", ["image"]), ("Flipd", ["mask"]), ("SpatialPadd", ["image"])],
    ids=["rotate-image-only", "flip-mask-only", "pad-image-only"],
)
def test_spatial_transform_moving_one_of_image_and_mask_is_refused(
    transform: str, keys: list[str]
) -> None:
    args: dict[str, object] = {"keys": keys}
    if transform == "SpatialPadd":
        args["spatial_size"] = [6, 6]
    stage = MonaiTransform(transform=transform, args=args)
    # Rotate90d(keys=["image"]) rotated the image and left the mask on the old pixels
    with pytest.raises(StageError, match=rf"{transform} with keys .* would move the"):
        stage(_sample())


def test_both_keys_keep_the_mask_on_its_pixel() -> None:
    out = MonaiTransform(transform="Rotate90d", args={"keys": ["image", "mask"]})(_sample())
    # the image pixel holding 1 carries the mask after the rotation, as before it
    assert out.image[0][out.mask == 1].tolist() == [1.0]


def test_intensity_transform_on_the_mask_is_refused() -> None:
    stage = MonaiTransform(
        transform="ShiftIntensityd", args={"keys": ["image", "mask"], "offset": 1}
    )
    with pytest.raises(StageError, match="intensity transform: it would change the mask"):
        stage(_sample())
    # on the image alone: the mask is left as it is
    out = MonaiTransform(transform="ShiftIntensityd", args={"keys": ["image"], "offset": 1})(
        _sample()
    )
    np.testing.assert_array_equal(out.mask, _sample().mask)


def test_without_a_mask_image_keys_alone_are_fine() -> None:
    sample = _sample().replace(mask=None)
    out = MonaiTransform(transform="Rotate90d", args={"keys": ["image"]})(sample)
    np.testing.assert_array_equal(out.image[0], np.rot90(sample.image[0]))
