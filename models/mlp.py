"""Fully connected networks: an image classifier and a per-pixel (patch) segmenter."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.layers import activation, fold_slices, mlp, unfold_slices
from models.registry import register_model
from models.specs import MLPClassifierConfig, MLPSegmenterConfig
from pipeline.words import counted


@register_model("mlp_classifier")
class MLPClassifier(nn.Module):
    """A multilayer perceptron on the flattened image (or on a feature vector such as PCA).

    Input ``(B, C, H, W)``, ``(B, C, D, H, W)`` or ``(B, F)``, flattened to ``(B, in_features)``;
    output logits ``(B, num_classes)``.

    Examples
    --------
    >>> net = MLPClassifier(MLPClassifierConfig(in_features=1 * 8 * 8, hidden=(16,)))
    >>> net(torch.zeros(4, 1, 8, 8)).shape
    torch.Size([4, 2])
    """

    Config = MLPClassifierConfig

    def __init__(self, config: MLPClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.body = mlp(
            c.in_features,
            c.hidden,
            act=c.activation,
            dropout=c.dropout,
            batch_norm=c.batch_norm,
            model="MLPClassifier",
        )
        self.head = nn.Linear(c.hidden[-1] if c.hidden else c.in_features, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of inputs ``(B, ...)`` with ``in_features`` values each."""
        x = x.flatten(1)  # (B, F)
        if x.shape[1] != self.config.in_features:
            raise ValueError(
                f"MLPClassifier was built for {self.config.in_features} input features; "
                f"got {x.shape[1]} (input shape {tuple(x.shape)})."
            )
        return self.head(self.body(x))


@register_model("mlp_segmenter")
class MLPSegmenter(nn.Module):
    """One MLP shared by every pixel, fed that pixel's neighbourhood patch.

    Each pixel's feature vector is its ``patch_size x patch_size`` neighbourhood (all channels,
    optionally dilated), optionally its normalised ``(y, x)`` position, and optionally a global
    context vector: the image average-pooled to ``context_grid x context_grid`` and passed
    through a linear layer. The MLP maps it to class logits. No weight depends on the image
    size, so one network segments 32x32 and 512x512 images with the same parameter count.

    Input ``(B, C, H, W)`` (or ``(B, C, D, H, W)``, slice by slice); output logits
    ``(B, K, H, W)`` (or ``(B, K, D, H, W)``).

    Notes
    -----
    The patch MLP is the fully connected reading of a sliding-window classifier (Ciresan et
    al., "Deep neural networks segment neuronal membranes in electron microscopy images",
    NIPS 2012); sharing the weights over pixels is what makes it scale.

    Examples
    --------
    >>> net = MLPSegmenter(MLPSegmenterConfig(hidden=(8,), context=4))
    >>> net(torch.zeros(2, 1, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    Config = MLPSegmenterConfig

    def __init__(self, config: MLPSegmenterConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        features = c.in_channels * c.patch_size**2 + (2 if c.coords else 0) + c.context
        self.context_net: nn.Module | None = None
        if c.context:
            self.context_net = nn.Sequential(
                nn.Linear(c.in_channels * c.context_grid**2, c.context),
                activation(c.activation, "MLPSegmenter"),
            )
        self.body = mlp(
            features,
            c.hidden,
            act=c.activation,
            dropout=c.dropout,
            batch_norm=c.batch_norm,
            model="MLPSegmenter",
        )
        self.head = nn.Linear(c.hidden[-1] if c.hidden else features, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, H, W)`` (or ``(B, K, D, H, W)``) of images of the same spatial shape."""
        was_3d = x.ndim == 5
        x, d = fold_slices(x, "MLPSegmenter")
        b, ch, h, w = x.shape
        if ch != self.config.in_channels:
            raise ValueError(
                f"MLPSegmenter was built for {counted(self.config.in_channels, 'channel')}; "
                f"got {ch}."
            )
        feats = [self._patches(x)]  # (B, H*W, C*k*k)
        if self.config.coords:
            feats.append(self._coords(b, h, w, x))  # (B, H*W, 2)
        if self.context_net is not None:
            g = self.config.context_grid
            ctx = self.context_net(F.adaptive_avg_pool2d(x, g).flatten(1))  # (B, context)
            feats.append(ctx[:, None, :].expand(b, h * w, ctx.shape[1]))
        z = torch.cat(feats, dim=2).reshape(b * h * w, -1)  # (B*H*W, F)
        logits = self.head(self.body(z))  # (B*H*W, K)
        logits = logits.reshape(b, h, w, -1).permute(0, 3, 1, 2)  # (B, K, H, W)
        return unfold_slices(logits, d, was_3d)

    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        k, dil = self.config.patch_size, self.config.dilation
        # Zero padding: inputs are expected to be normalised, so 0 is "average tissue".
        cols = F.unfold(x, k, dilation=dil, padding=dil * (k // 2))  # (B, C*k*k, H*W)
        return cols.transpose(1, 2)

    @staticmethod
    def _coords(b: int, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
        ys = torch.linspace(-1, 1, h, device=like.device, dtype=like.dtype)
        xs = torch.linspace(-1, 1, w, device=like.device, dtype=like.dtype)
        grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1)  # (H, W, 2)
        return grid.reshape(1, h * w, 2).expand(b, h * w, 2)
