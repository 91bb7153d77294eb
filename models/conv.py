"""Convolutional baselines, so that the fully connected and recurrent models have a yardstick."""

from __future__ import annotations

import math

import torch
from torch import nn

from models.layers import counted
from models.registry import register_model
from models.specs import CNNClassifierConfig, ResNetClassifierConfig, UNetConfig


def _check_input(model: str, x: torch.Tensor, spatial_dims: int, in_channels: int) -> None:
    """Refuse input of another rank or channel count than the model was built for."""
    if x.ndim != spatial_dims + 2:
        raise ValueError(
            f"{model} with spatial_dims={spatial_dims} expects {spatial_dims + 2}-D input; "
            f"got {tuple(x.shape)}."
        )
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{model} was built for {counted(in_channels, 'channel')}; got {x.shape[1]} "
            f"(input {tuple(x.shape)})."
        )


@register_model("cnn_classifier")
class CNNClassifier(nn.Module):
    """A small CNN classifier.

    ``(conv 3 -> batch norm -> ReLU -> max pool 2)`` per entry of ``channels``, global average
    pooling, then a linear layer.

    Input ``(B, C, H, W)`` (``spatial_dims=2``) or ``(B, C, D, H, W)`` (3); logits ``(B, K)``.

    Examples
    --------
    >>> net = CNNClassifier(CNNClassifierConfig(channels=(4, 8)))
    >>> net(torch.zeros(2, 1, 16, 16)).shape
    torch.Size([2, 2])
    """

    Config = CNNClassifierConfig

    def __init__(self, config: CNNClassifierConfig) -> None:
        super().__init__()
        self.config = config
        conv = nn.Conv2d if config.spatial_dims == 2 else nn.Conv3d
        norm = nn.BatchNorm2d if config.spatial_dims == 2 else nn.BatchNorm3d
        pool = nn.MaxPool2d if config.spatial_dims == 2 else nn.MaxPool3d
        layers: list[nn.Module] = []
        width = config.in_channels
        for out in config.channels:
            layers += [conv(width, out, 3, padding=1, bias=False), norm(out), nn.ReLU()]
            layers.append(pool(2, ceil_mode=True))
            width = out
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(width, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of images ``(B, C, H, W)`` or ``(B, C, D, H, W)``."""
        _check_input("CNNClassifier", x, self.config.spatial_dims, self.config.in_channels)
        z = self.features(x).flatten(2).mean(dim=2)  # (B, channels[-1])
        return self.head(self.drop(z))


@register_model("resnet_classifier")
class ResNetClassifier(nn.Module):
    """A residual network classifier: MONAI's ``ResNet`` with basic blocks.

    He et al., "Deep Residual Learning for Image Recognition", CVPR 2016. Four stages of
    ``layers`` basic blocks (two 3x3 convolutions with batch norm and a shortcut), ``widths``
    channels, each stage after the first halving the size; global average pooling and a
    linear layer. The ``small`` stem (3x3, stride 1, no max pool) keeps 28x28 inputs at full
    size into the first stage, as MedMNIST v2's ResNet-18 baselines (Yang et al., Scientific
    Data 2023); ``large`` is ImageNet's 7x7 / 2 and max pool.

    Input ``(B, C, H, W)`` (``spatial_dims=2``) or ``(B, C, D, H, W)`` (3), float; logits
    ``(B, K)``.

    Examples
    --------
    >>> net = ResNetClassifier(ResNetClassifierConfig(widths=(4, 4, 8, 8), layers=(1, 1, 1, 1)))
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 2])
    """

    Config = ResNetClassifierConfig

    def __init__(self, config: ResNetClassifierConfig) -> None:
        super().__init__()
        from monai.networks.nets import ResNet  # heavy import, only when built

        self.config = config
        small = config.stem == "small"
        self.net = ResNet(
            "basic",
            list(config.layers),
            list(config.widths),
            spatial_dims=config.spatial_dims,
            n_input_channels=config.in_channels,
            conv1_t_size=3 if small else 7,
            conv1_t_stride=1 if small else 2,
            no_max_pool=small,
            num_classes=config.num_classes,
            bias_downsample=False,  # the projection shortcuts have none (He et al.; torchvision)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of images ``(B, C, H, W)`` or ``(B, C, D, H, W)``.

        Raises
        ------
        ValueError
            Another rank or channel count than the model was built for.
        """
        _check_input("ResNetClassifier", x, self.config.spatial_dims, self.config.in_channels)
        return self.net(x)


@register_model("unet")
class UNet(nn.Module):
    """MONAI's ``BasicUNet`` (Ronneberger et al., MICCAI 2015) as the segmentation baseline.

    Input ``(B, C, H, W)`` or ``(B, C, D, H, W)`` with every spatial size a multiple of 16;
    logits ``(B, K, ...)`` of the same spatial size. Each of the 18 convolutions (two per
    block: the input block, four down, four up) is followed by ``config.norm`` and a leaky ReLU.
    """

    Config = UNetConfig

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        from monai.networks.nets import BasicUNet  # heavy import, only when built

        self.config = config
        self.net = BasicUNet(
            spatial_dims=config.spatial_dims,
            in_channels=config.in_channels,
            out_channels=config.num_classes,
            features=config.features,
            dropout=config.dropout,
            # instance norm normalises each image alone; batch norm uses the batch's (and, in
            # eval mode, the running) statistics: MONAI's spelling of each
            norm=("instance", {"affine": True}) if config.norm == "instance" else ("batch", {}),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, *spatial)``.

        Raises
        ------
        ValueError
            Another rank or channel count than built for; a spatial size that is not a
            multiple of 16; or a deepest level (1/16 of each size) of one element, which
            instance norm cannot normalise (16x16: it failed inside torch, "Expected more
            than 1 spatial element"), nor batch norm in training on a batch of one.
        """
        _check_input("UNet", x, self.config.spatial_dims, self.config.in_channels)
        if any(s % 16 for s in x.shape[2:]):
            raise ValueError(
                f"UNet needs spatial sizes that are multiples of 16; got {tuple(x.shape[2:])}."
            )
        deepest = math.prod(s // 16 for s in x.shape[2:])
        if deepest == 1 and (self.config.norm == "instance" or (self.training and len(x) == 1)):
            norm = f"{self.config.norm} norm" + (
                " in training" if self.config.norm == "batch" else ""
            )
            raise ValueError(
                f"UNet: spatial size {tuple(x.shape[2:])} leaves one element at the deepest level "
                f"(1/16 of each size), which {norm} cannot normalise; give images of at least "
                "32 along one axis."
            )
        return self.net(x)
