"""A mask that is not class indices is refused where the Sample is made, never carried on.

Until 2026-12-02 a float mask holding 0.5 (a soft label, a mask resized linearly) passed every
stage unchanged and was truncated to class 0 by ``sample_to_item``'s int64 cast: the model
trained on a mask the user never drew, without a word.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.data.base import sample_to_item
from pipeline.sample import Sample
from pipeline.stages import RandomFlip, Resize

IMAGE = np.zeros((1, 2, 3), np.float32)


@pytest.mark.parametrize(
    "values, shown",
    [
        pytest.param([0.0, 0.5, 1.0], "(0.5)", id="half"),
        pytest.param([0.0, 0.3, 0.7], "(0.3, 0.7)", id="soft"),
        pytest.param([0.0, np.nan, 1.0], "(nan)", id="nan"),
    ],
)
def test_a_float_mask_with_fractions_is_refused_naming_the_sample(
    values: list[float], shown: str
) -> None:
    mask = np.array([values, [0.0, 0.0, 1.0]], np.float32)
    with pytest.raises(ValueError, match="class indices") as err:
        Sample(IMAGE, mask=mask, meta={"id": "case7"})
    message = str(err.value)
    assert "'case7'" in message and shown in message, message
    assert f"{sum(v != int(v) if v == v else 1 for v in values)} of 6 values" in message


def test_whole_number_float_masks_pass_and_reach_the_batch_unchanged() -> None:
    mask = np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 1.0]])  # a NIfTI mask read with get_fdata
    sample = Resize(shape=[4, 6])(Sample(IMAGE, mask=mask, meta={"id": "a"}))
    flipped = RandomFlip(p=1.0, axes=[-1])(sample, np.random.default_rng(0))
    expected = np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1)[:, ::-1]
    assert sample_to_item(flipped)["mask"].numpy().tolist() == expected.astype(int).tolist()


def test_a_mask_of_strings_is_refused() -> None:
    with pytest.raises(ValueError, match="dtype <U1"):
        Sample(IMAGE, mask=np.array([["a"] * 3] * 2))


def test_a_stage_cannot_hand_on_a_blended_mask() -> None:
    """A stage's output sample is checked as any other (``Sample.replace``)."""
    sample = Sample(IMAGE, mask=np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="not whole numbers"):
        sample.replace(mask=np.full((2, 3), 0.25))
