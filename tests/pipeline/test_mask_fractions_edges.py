"""Edges of the refusal of masks that are not class indices (:class:`pipeline.sample.Sample`):
an infinite value is no class, an object array is no number array, and past four values the
message says there are more."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.sample import Sample

IMAGE = np.zeros((1, 2, 3), np.float32)


def test_an_infinite_value_is_no_class_index() -> None:
    mask = np.array([[0.0, np.inf, 1.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"1 of 6 values that are not whole numbers \(inf\)"):
        Sample(IMAGE, mask=mask)


def test_an_object_mask_is_refused_by_its_dtype() -> None:
    mask = np.zeros((2, 3), dtype=object)
    with pytest.raises(ValueError, match="has dtype object"):
        Sample(IMAGE, mask=mask)


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([0.1, 0.2, 0.3, 0.4, 0.0, 0.0], "(0.1, 0.2, 0.3, 0.4)"),
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.0], "(0.1, 0.2, 0.3, 0.4, ...)"),
    ],
    ids=["four", "five"],
)
def test_the_first_four_values_are_shown_then_an_ellipsis(values: list[float], shown: str) -> None:
    with pytest.raises(ValueError) as err:
        Sample(IMAGE, mask=np.array(values).reshape(2, 3))
    assert f"whole numbers {shown}:" in str(err.value)
