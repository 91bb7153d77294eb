"""``resnet_classifier``: ResNet-18's layout (He et al. 2016) through MONAI's ``ResNet``."""

from __future__ import annotations

import pytest
import torch

from models import build_model
from pipeline.errors import ConfigError


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_full_width_resnet18_has_torchvisions_parameter_count() -> None:
    # torchvision's resnet18 (3 channels, 1000 classes, ImageNet stem): 11,689,512 parameters,
    # as its documentation lists them; the projection shortcuts carry no bias.
    net = build_model("resnet_classifier", in_channels=3, num_classes=1000,
                      widths=(64, 128, 256, 512), stem="large")  # fmt: skip
    assert n_params(net) == 11_689_512


def _first_stage_size(stem: str, size: int) -> tuple[int, ...]:
    net = build_model("resnet_classifier", widths=(4, 4, 8, 8), layers=(1, 1, 1, 1), stem=stem)
    seen: list[tuple[int, ...]] = []
    net.net.layer1.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape[2:])))
    net.eval()(torch.zeros(1, 1, size, size))
    return seen[0]


def test_small_stem_keeps_the_image_size_into_the_first_stage() -> None:
    assert _first_stage_size("small", 28) == (28, 28)  # 3x3 / 1, no max pool
    assert _first_stage_size("large", 28) == (7, 7)  # 7x7 / 2 -> 14, then max pool / 2 -> 7


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"layers": (2, 2, 2)}, "'layers' parameter of ResNetClassifier must hold 4 numbers"),
        ({"widths": (8, 8, 8, 0)}, "'widths' parameter"),
        ({"stem": "medium"}, "'stem' parameter of ResNetClassifier must be one of small, large"),
        ({"num_classes": 1}, "'num_classes'.*>= 2"),
    ],
)
def test_bad_parameters_are_refused_in_words(params: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_model("resnet_classifier", **params)


def test_another_channel_count_is_refused_naming_the_model() -> None:
    net = build_model("resnet_classifier", widths=(4, 4, 8, 8), layers=(1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"ResNetClassifier was built for 1 channel; got 3"):
        net(torch.zeros(2, 3, 16, 16))
