"""The convolutional baselines refuse input they cannot take in words, as the other models do.

Before: a 3-channel image for a 1-channel ``cnn_classifier`` or ``unet`` failed inside torch
(``Given groups=1, weight of size [4, 1, 3, 3], expected input[2, 3, 16, 16] to have 1
channels``), and a 16x16 image, a multiple of 16 as the docstring asked, failed in the
``unet``'s instance norm (``Expected more than 1 spatial element when training``).
"""

from __future__ import annotations

import pytest
import torch

from models import build_model

UNET = {"features": (4, 4, 8, 8, 16, 4), "num_classes": 2}


@pytest.mark.parametrize(("name", "params"), [("cnn_classifier", {"channels": (4,)}),
                                              ("unet", UNET)])  # fmt: skip
def test_another_channel_count_is_named(name: str, params: dict) -> None:
    net = build_model(name, in_channels=1, **params)
    with pytest.raises(
        ValueError, match=r"was built for 1 channel; got 3 \(input \(2, 3, 32, 32\)\)"
    ):
        net(torch.zeros(2, 3, 32, 32))


def test_unet_at_16_pixels_says_what_its_norm_needs() -> None:
    instance = build_model("unet", **UNET)
    for mode in (instance.train, instance.eval):
        mode()
        with pytest.raises(ValueError, match=r"spatial size \(16, 16\) leaves one element at the "
                           r"deepest level .* which instance norm cannot normalise"):  # fmt: skip
            instance(torch.zeros(2, 1, 16, 16))
    assert instance(torch.zeros(1, 1, 16, 32)).shape == (1, 2, 16, 32)  # two elements: fine
    batch = build_model("unet", norm="batch", **UNET)
    assert batch(torch.zeros(2, 1, 16, 16)).shape == (2, 2, 16, 16)  # two in the batch
    with pytest.raises(ValueError, match=r"which batch norm in training cannot normalise"):
        batch(torch.zeros(1, 1, 16, 16))
    batch.eval()
    assert batch(torch.zeros(1, 1, 16, 16)).shape == (1, 2, 16, 16)  # running statistics
