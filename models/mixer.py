"""All-MLP token-mixing networks: an MLP-Mixer classifier and a U-shaped Mixer segmenter.

Every layer here is a linear map applied along one axis of a ``(B, H, W, C)`` or
``(B, T, C)`` tensor (plus layer norms and GELUs): along channels ("channel mixing") or along
the tokens of an image or of a window ("token mixing"). Cutting an image into patches and
mapping each flattened patch linearly is the same map as a convolution with kernel = stride
= patch size, which is how the patch embedding is computed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.layers import fold_slices, pixel_head, unfold_slices
from models.registry import register_model
from models.specs import MixerClassifierConfig, MixerUNetConfig


def _mlp2(width: int, hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, width)
    )


class MixerBlock(nn.Module):
    """One Mixer layer on ``(B, T, C)``: token-mixing MLP, then channel-mixing MLP.

    ``x + W2 gelu(W1 LN(x)^T)^T``, then ``x + W4 gelu(W3 LN(x))`` (Tolstikhin et al. 2021,
    eq. 1). ``T`` is fixed when the block is built.
    """

    def __init__(
        self, tokens: int, dim: int, token_hidden: int, channel_hidden: int, dropout: float
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.tokens = _mlp2(tokens, token_hidden, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.channels = _mlp2(dim, channel_hidden, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C)
        """``(B, T, C) -> (B, T, C)``."""
        x = x + self.tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channels(self.norm2(x))


@register_model("mixer_classifier")
class MixerClassifier(nn.Module):
    """MLP-Mixer image classifier: patch embedding, ``depth`` Mixer layers, mean pooling.

    Input ``(B, C, H, W)`` with ``(H, W) = image_size`` (zero-padded inside to a multiple of
    ``patch_size``); output logits ``(B, num_classes)``. With ``T = ceil(H/p) ceil(W/p)``
    tokens and ``D = dim`` the parameter count is
    ``(C p^2 + 1) D + depth (4 D + 2 T Ht + Ht + T + 2 D Hc + Hc + D) + 2 D + (D + 1) K``
    (``Ht``/``Hc`` the token/channel hidden sizes).

    Notes
    -----
    Tolstikhin et al., "MLP-Mixer: An all-MLP architecture for vision", NeurIPS 2021
    (arXiv:2105.01601).

    Examples
    --------
    >>> net = MixerClassifier(MixerClassifierConfig(image_size=(28, 28), dim=8, depth=1))
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 2])
    """

    Config = MixerClassifierConfig

    def __init__(self, config: MixerClassifierConfig) -> None:
        super().__init__()
        self.config = c = config
        p = c.patch_size
        tokens = -(-c.image_size[0] // p) * -(-c.image_size[1] // p)
        self.embed = nn.Conv2d(c.in_channels, c.dim, kernel_size=p, stride=p)  # per-patch linear
        self.blocks = nn.Sequential(
            *[
                MixerBlock(tokens, c.dim, c.token_hidden, c.channel_hidden, c.dropout)
                for _ in range(c.depth)
            ]
        )
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of images ``(B, C, H, W)``."""
        c = self.config
        if x.ndim != 4 or tuple(x.shape[1:]) != (c.in_channels, *c.image_size):
            raise ValueError(
                f"MixerClassifier was built for images (B, {c.in_channels}, "
                f"{c.image_size[0]}, {c.image_size[1]}); got {tuple(x.shape)}."
            )
        p = c.patch_size
        x = F.pad(x, (0, -x.shape[-1] % p, 0, -x.shape[-2] % p))
        z = self.embed(x).flatten(2).transpose(1, 2)  # (B, T, D)
        z = self.norm(self.blocks(z))
        return self.head(z.mean(dim=1))  # (B, K)


class WindowMixerBlock(nn.Module):
    """A Mixer layer on ``(B, H, W, C)`` whose token mixing stays inside ``w x w`` windows.

    With ``shift``, the windows are moved by ``w // 2`` (a cyclic roll, as in Swin; Liu et
    al. 2021), so alternating blocks pass information across window borders. ``H`` and ``W``
    must be multiples of ``w``; the parameter count does not depend on them.
    """

    def __init__(self, dim: int, window: int, mlp_ratio: int, dropout: float, shift: bool):
        super().__init__()
        self.window, self.shift = window, (window // 2 if shift else 0)
        self.norm1 = nn.LayerNorm(dim)
        self.tokens = _mlp2(window * window, window * window, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.channels = _mlp2(dim, mlp_ratio * dim, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, H, W, C)
        """``(B, H, W, C) -> (B, H, W, C)``."""
        b, h, w, c = x.shape
        k, s = self.window, self.shift
        y = self.norm1(x)
        if s:
            y = torch.roll(y, (-s, -s), dims=(1, 2))
        y = y.reshape(b, h // k, k, w // k, k, c).permute(0, 1, 3, 5, 2, 4)  # (B,h,w,C,k,k)
        y = self.tokens(y.reshape(b, h // k, w // k, c, k * k)).reshape(b, h // k, w // k, c, k, k)
        y = y.permute(0, 1, 4, 2, 5, 3).reshape(b, h, w, c)
        if s:
            y = torch.roll(y, (s, s), dims=(1, 2))
        x = x + y
        return x + self.channels(self.norm2(x))


def _stage(dim: int, cfg: MixerUNetConfig) -> nn.Sequential:
    return nn.Sequential(
        *[
            WindowMixerBlock(dim, cfg.window, cfg.mlp_ratio, cfg.dropout, shift=i % 2 == 1)
            for i in range(cfg.depth)
        ]
    )


def merge_patches(x: torch.Tensor) -> torch.Tensor:
    """``(B, H, W, C) -> (B, H/2, W/2, 4C)``: each 2x2 neighbourhood as one vector."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h // 2, w // 2, 4 * c)


def expand_patches(x: torch.Tensor, r: int) -> torch.Tensor:
    """``(B, H, W, r*r*C) -> (B, rH, rW, C)``: the inverse of merging ``r x r`` patches."""
    b, h, w, rrc = x.shape
    c = rrc // (r * r)
    x = x.reshape(b, h, w, r, r, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h * r, w * r, c)


@register_model("mixer_unet")
class MixerUNet(nn.Module):
    """An all-MLP U-shaped segmenter: window Mixer stages at ``levels`` scales with skips.

    Patch embedding (linear per ``patch_size`` patch) -> at each level ``depth`` window-Mixer
    blocks (token mixing inside ``window`` x ``window`` windows, every second block shifted),
    then 2x2 patch merging (``LN, Linear(4C, 2C)``) down to the next level; the decoder
    expands 2x (``Linear(C, 2C)`` + pixel shuffle), concatenates the encoder's features of
    that scale (skip), fuses them linearly and mixes them again. A final linear expansion to
    full resolution, concatenated with the input pixels, goes through a per-pixel MLP.

    Input ``(B, C, H, W)`` (or each slice of ``(B, C, D, H, W)``), any size: zero-padded
    inside to a multiple of ``patch_size * 2**(levels-1) * window`` and cropped back.
    Output logits of the same spatial size. The parameter count does not depend on H, W.

    Notes
    -----
    Token/channel mixing: Tolstikhin et al., "MLP-Mixer", NeurIPS 2021. Windows, shifts,
    patch merging/expanding and the U-shape: Liu et al., "Swin Transformer", ICCV 2021, and
    Cao et al., "Swin-Unet", ECCV Workshops 2022, with the attention replaced by token-mixing
    MLPs; an all-MLP medical segmenter in the same spirit is UNeXt (Valanarasu & Patel,
    MICCAI 2022).

    Examples
    --------
    >>> net = MixerUNet(MixerUNetConfig(dim=8, levels=2, depth=1, window=4))
    >>> net(torch.zeros(2, 1, 20, 12)).shape
    torch.Size([2, 2, 20, 12])
    """

    Config = MixerUNetConfig

    def __init__(self, config: MixerUNetConfig) -> None:
        super().__init__()
        self.config = c = config
        p, widths = c.patch_size, [c.dim * 2**level for level in range(c.levels)]
        self.embed = nn.Conv2d(c.in_channels, c.dim, kernel_size=p, stride=p)  # per-patch linear
        self.encoder = nn.ModuleList([_stage(wd, c) for wd in widths])
        self.merge = nn.ModuleList(
            [nn.Sequential(nn.LayerNorm(4 * wd), nn.Linear(4 * wd, 2 * wd)) for wd in widths[:-1]]
        )
        self.expand = nn.ModuleList([nn.Linear(2 * wd, 4 * wd) for wd in widths[:-1]])
        self.fuse = nn.ModuleList([nn.Linear(2 * wd, wd) for wd in widths[:-1]])
        self.decoder = nn.ModuleList([_stage(wd, c) for wd in widths[:-1]])
        self.norm = nn.LayerNorm(c.dim)
        self.to_pixels = nn.Linear(c.dim, p * p * c.head_channels)
        self.head = pixel_head(c.head_channels, c.in_channels, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, H, W)`` (or ``(B, K, D, H, W)``) of the same spatial size."""
        was_3d = x.ndim == 5
        c = self.config
        x, d = fold_slices(x, "MixerUNet", c.in_channels)
        h, w = x.shape[-2:]
        m = c.patch_size * 2 ** (c.levels - 1) * c.window
        xp = F.pad(x, (0, -w % m, 0, -h % m))
        z = self.embed(xp).permute(0, 2, 3, 1)  # (B, H/p, W/p, dim)
        skips = []
        for level, stage in enumerate(self.encoder):
            z = stage(z)
            if level < c.levels - 1:
                skips.append(z)
                z = self.merge[level](merge_patches(z))  # (B, H/2, W/2, 2C)
        for level in reversed(range(c.levels - 1)):
            z = expand_patches(self.expand[level](z), 2)  # (B, 2H, 2W, C)
            z = self.fuse[level](torch.cat([z, skips[level]], dim=-1))
            z = self.decoder[level](z)
        z = expand_patches(self.to_pixels(self.norm(z)), c.patch_size)  # (B, H, W, head)
        z = torch.cat([z, xp.permute(0, 2, 3, 1)], dim=-1)
        logits = self.head(z).permute(0, 3, 1, 2)[..., :h, :w]  # (B, K, H, W)
        return unfold_slices(logits.contiguous(), d, was_3d)
