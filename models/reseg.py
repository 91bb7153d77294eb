"""ReSeg-style recurrent encoder-decoder: ReNet sweeps on downsampled features, skips."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.layers import fold_slices, pixel_head, unfold_slices
from models.mixer import expand_patches, merge_patches
from models.recurrent import ReNetLayer, _rnn
from models.registry import register_model
from models.specs import ReSegUNetConfig


class _Level(nn.Module):
    """Merge 2x2 patches to ``width`` (linear + GELU); optionally a residual ReNet layer."""

    def __init__(self, in_width: int, width: int, renet: bool, hidden: int, cell: str) -> None:
        super().__init__()
        self.merge = nn.Sequential(nn.Linear(4 * in_width, width), nn.LayerNorm(width), nn.GELU())
        self.renet: ReNetLayer | None = ReNetLayer(width, hidden, cell) if renet else None
        self.proj = nn.Linear(2 * hidden, width) if renet else None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, H, W, C) -> (B, H/2, W/2, width)``."""
        z = self.merge(merge_patches(z))
        if self.renet is not None and self.proj is not None:
            swept = self.renet(z.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)  # (B, h, w, 2*hidden)
            z = z + self.proj(swept)
        return z


@register_model("reseg_unet")
class ReSegUNet(nn.Module):
    """A recurrent U-shaped segmenter: ReNet layers on downsampled features, with skips.

    Encoder level ``l`` (resolution ``1 / 2**(l+1)``) merges 2x2 patches of the level above
    linearly to ``widths[l]`` channels; from level ``renet_from`` on, a ReNet layer
    (bidirectional recurrent sweeps along every row, then every column) adds image-wide
    context to each position (residual, projected back to ``widths[l]``). The decoder
    expands 2x linearly (pixel shuffle), concatenates the encoder features of that scale
    (skip) and fuses them with a per-position MLP; a final linear expansion to full
    resolution, concatenated with the input pixels, is classified per pixel. With
    ``slice_rnn=True`` and a ``(B, C, D, H, W)`` input, a bidirectional recurrent pass across
    the slices at each position of the deepest level follows (residual).

    Input ``(B, C, H, W)`` or ``(B, C, D, H, W)``, any size (padded inside to a multiple of
    ``2**len(widths)``); logits of the same spatial size. The parameter count does not depend
    on the image size. No convolutions: besides the recurrent sweeps, every layer is a
    linear map over channels or over 2x2 patches.

    Notes
    -----
    Visin et al., "ReNet", arXiv:1505.00393, 2015; Visin et al., "ReSeg: A recurrent neural
    network-based model for semantic segmentation", CVPR Workshops 2016 (ReNet layers on
    downsampled features, upsampling to full size); skips as in Ronneberger et al., "U-Net",
    MICCAI 2015. Recurrence across slices: Chen et al., "Combining fully convolutional and
    recurrent neural networks for 3D biomedical image segmentation", NeurIPS 2016.

    Examples
    --------
    >>> net = ReSegUNet(ReSegUNetConfig(widths=(4, 8), hidden_size=4, head_channels=4))
    >>> net(torch.zeros(2, 1, 10, 10)).shape
    torch.Size([2, 2, 10, 10])
    """

    Config = ReSegUNetConfig

    def __init__(self, config: ReSegUNetConfig) -> None:
        super().__init__()
        self.config = c = config
        ins = [c.in_channels, *c.widths[:-1]]
        self.levels = nn.ModuleList(
            [
                _Level(i, wd, level >= c.renet_from, c.hidden_size, c.cell)
                for level, (i, wd) in enumerate(zip(ins, c.widths, strict=True))
            ]
        )
        pairs = list(zip(c.widths[:-1], c.widths[1:], strict=True))
        self.expand = nn.ModuleList([nn.Linear(deep, 4 * wd) for wd, deep in pairs])
        self.fuse = nn.ModuleList(
            [nn.Sequential(nn.Linear(2 * wd, wd), nn.LayerNorm(wd), nn.GELU()) for wd, _ in pairs]
        )
        self.across: nn.Module | None = None
        self.across_proj: nn.Linear | None = None
        if c.slice_rnn:
            self.across = _rnn(c.cell, c.widths[-1], c.hidden_size, 1, True)
            self.across_proj = nn.Linear(2 * c.hidden_size, c.widths[-1])
        self.to_pixels = nn.Linear(c.widths[0], 4 * c.head_channels)
        self.head = pixel_head(c.head_channels, c.in_channels, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, H, W)`` (or ``(B, K, D, H, W)``) of the same spatial size."""
        was_3d = x.ndim == 5
        c = self.config
        x, d = fold_slices(x, "ReSegUNet", c.in_channels)
        h, w = x.shape[-2:]
        m = 2 ** len(c.widths)
        z = F.pad(x, (0, -w % m, 0, -h % m)).permute(0, 2, 3, 1)  # (B*D, H, W, C)
        pixels, skips = z, []
        for level in self.levels:
            z = level(z)
            skips.append(z)
        if self.across is not None and was_3d:
            z = z + self._across_slices(z, d)
        for i in reversed(range(len(c.widths) - 1)):
            z = expand_patches(self.expand[i](z), 2)
            z = self.fuse[i](torch.cat([z, skips[i]], dim=-1))
        z = expand_patches(self.to_pixels(z), 2)  # (B*D, H, W, head)
        logits = self.head(torch.cat([z, pixels], dim=-1)).permute(0, 3, 1, 2)[..., :h, :w]
        return unfold_slices(logits.contiguous(), d, was_3d)

    def _across_slices(self, z: torch.Tensor, d: int) -> torch.Tensor:
        assert self.across is not None and self.across_proj is not None
        bd, h, w, f = z.shape
        seq = z.reshape(bd // d, d, h, w, f).permute(0, 2, 3, 1, 4).reshape(-1, d, f)
        seq, _ = self.across(seq)  # (B*h*w, D, 2*hidden)
        out = self.across_proj(seq)
        return out.reshape(bd // d, h, w, d, f).permute(0, 3, 1, 2, 4).reshape(bd, h, w, f)
