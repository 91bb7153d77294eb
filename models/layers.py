"""Small building blocks shared by the fully connected and recurrent models."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from pipeline.errors import ConfigError
from pipeline.words import counted

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
}


def activation(name: str, model: str = "model") -> nn.Module:
    """The activation module called ``name``; a ``ConfigError`` lists the choices."""
    if name not in ACTIVATIONS:
        raise ConfigError(
            f"The 'activation' parameter of {model} must be one of "
            f"{', '.join(ACTIVATIONS)}; got {name!r}."
        )
    return ACTIVATIONS[name]()


def mlp(
    in_features: int,
    hidden: Sequence[int],
    *,
    act: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = True,
    model: str = "model",
) -> nn.Sequential:
    """``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` for each hidden size.

    The output has ``hidden[-1]`` features (``in_features`` when ``hidden`` is empty); the
    caller adds its own output layer.
    """
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden:
        # The bias is redundant right before a batch norm, which has its own shift.
        layers.append(nn.Linear(width, size, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(activation(act, model))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    return nn.Sequential(*layers)


def fold_slices(
    x: torch.Tensor, model: str, in_channels: int | None = None
) -> tuple[torch.Tensor, int]:
    """``(B, C, D, H, W) -> (B*D, C, H, W)`` (``D`` is returned; 1 for 4-D input).

    Raises
    ------
    ValueError
        If ``x`` is neither 4-D nor 5-D, or ``C`` differs from ``in_channels`` (when given).
    """
    if x.ndim not in (4, 5):
        raise ValueError(
            f"{model} expects images of shape (B, C, H, W) or (B, C, D, H, W); "
            f"got {tuple(x.shape)}."
        )
    if in_channels is not None and x.shape[1] != in_channels:
        raise ValueError(
            f"{model} was built for {counted(in_channels, 'channel')}; got {x.shape[1]}."
        )
    if x.ndim == 4:
        return x, 1
    b, c, d, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * d, c, h, w), d


def pixel_head(head_channels: int, in_channels: int, num_classes: int) -> nn.Sequential:
    """Per-pixel classifier over decoded features and the input's intensities.

    Maps ``(..., head_channels + in_channels)`` to ``(..., num_classes)`` logits.
    """
    return nn.Sequential(
        nn.Linear(head_channels + in_channels, head_channels),
        nn.GELU(),
        nn.Linear(head_channels, num_classes),
    )


def unfold_slices(y: torch.Tensor, d: int, was_3d: bool) -> torch.Tensor:
    """Inverse of :func:`fold_slices` for per-pixel outputs ``(B*D, K, H, W)``."""
    if not was_3d:
        return y
    bd, k, h, w = y.shape
    return y.reshape(bd // d, d, k, h, w).permute(0, 2, 1, 3, 4)
