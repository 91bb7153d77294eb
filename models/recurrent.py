"""Recurrent networks: a series classifier (slices or frames) and a ReNet/ReSeg segmenter."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.layers import fold_slices, mlp, unfold_slices
from models.registry import register_model
from models.scan import LinearScan
from models.specs import RecurrentClassifierConfig, ReNetSegmenterConfig
from pipeline.words import counted

#: ``scan``: a linear recurrent scan (diagonal linear state-space layer, :mod:`models.scan`).
CELLS: dict[str, type[nn.GRU] | type[nn.LSTM] | type[LinearScan]] = {
    "gru": nn.GRU, "lstm": nn.LSTM, "scan": LinearScan,
}  # fmt: skip


def _rnn(cell: str, in_size: int, hidden: int, layers: int, bidirectional: bool) -> nn.Module:
    return CELLS[cell](
        in_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional
    )


@register_model("recurrent_classifier")
class RecurrentClassifier(nn.Module):
    """A per-slice MLP encoder, then a GRU or LSTM over the slices (or frames) of a series.

    Input ``(B, C, D, H, W)`` (``D`` slices along the normal, or frames of a cine loop) or
    already-extracted per-slice features ``(B, D, F)``; output logits ``(B, num_classes)``.
    ``pool="last"`` classifies from the final hidden state (of each direction);
    ``pool="mean"`` from the mean of the outputs over ``D``.

    Notes
    -----
    GRU: Cho et al., "Learning phrase representations using RNN encoder-decoder", 2014.
    LSTM: Hochreiter & Schmidhuber, Neural Computation 9(8), 1997.

    Examples
    --------
    >>> net = RecurrentClassifier(RecurrentClassifierConfig(in_features=64, encoder=(8,)))
    >>> net(torch.zeros(2, 1, 5, 8, 8)).shape
    torch.Size([2, 2])
    """

    Config = RecurrentClassifierConfig

    def __init__(self, config: RecurrentClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.encoder = mlp(
            c.in_features,
            c.encoder,
            act=c.activation,
            dropout=c.dropout,
            batch_norm=c.batch_norm,
            model="RecurrentClassifier",
        )
        width = c.encoder[-1] if c.encoder else c.in_features
        self.rnn = _rnn(c.cell, width, c.hidden_size, c.num_layers, c.bidirectional)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden_size * (2 if c.bidirectional else 1), c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of series ``(B, C, D, H, W)`` or per-slice features ``(B, D, F)``."""
        if x.ndim == 5:
            b, ch, d, h, w = x.shape
            x = x.permute(0, 2, 1, 3, 4).reshape(b, d, ch * h * w)  # (B, D, F)
        elif x.ndim != 3:
            raise ValueError(
                "RecurrentClassifier expects series of shape (B, C, D, H, W) or features "
                f"(B, D, F); got {tuple(x.shape)}."
            )
        b, d, f = x.shape
        if f != self.config.in_features:
            raise ValueError(
                f"RecurrentClassifier was built for {self.config.in_features} features per "
                f"slice; got {f}."
            )
        z = self.encoder(x.reshape(b * d, f)).reshape(b, d, -1)  # (B, D, E)
        out, state = self.rnn(z)  # out: (B, D, dirs*H)
        if self.config.pool == "mean":
            pooled = out.mean(dim=1)
        else:
            h_n = state[0] if isinstance(state, tuple) else state  # (layers*dirs, B, H)
            dirs = 2 if self.config.bidirectional else 1
            pooled = torch.cat(list(h_n[-dirs:]), dim=1)  # last layer, each direction
        return self.head(self.drop(pooled))


class ReNetLayer(nn.Module):
    """One ReNet layer: a bidirectional sweep along each row, then along each column.

    ``(B, F, H, W) -> (B, 2*hidden, H, W)``; every output pixel sees the whole image.
    """

    def __init__(self, in_size: int, hidden: int, cell: str) -> None:
        super().__init__()
        self.horizontal = _rnn(cell, in_size, hidden, 1, True)
        self.vertical = _rnn(cell, 2 * hidden, hidden, 1, True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, F, H, W) -> (B, 2*hidden, H, W)``: a row sweep, then a column sweep."""
        b, f, h, w = x.shape
        rows = x.permute(0, 2, 3, 1).reshape(b * h, w, f)  # (B*H, W, F): each row a sequence
        rows, _ = self.horizontal(rows)  # (B*H, W, 2h)
        cols = rows.reshape(b, h, w, -1).permute(0, 2, 1, 3).reshape(b * w, h, -1)
        cols, _ = self.vertical(cols)  # (B*W, H, 2h)
        return cols.reshape(b, w, h, -1).permute(0, 3, 2, 1)  # (B, 2h, H, W)


@register_model("renet_segmenter")
class ReNetSegmenter(nn.Module):
    """ReSeg-style segmenter: flattened patches, ReNet layers, learned upsampling.

    The image is cut into non-overlapping ``patch_size`` patches (each flattened to a vector),
    passed through ``num_layers`` ReNet layers (bidirectional recurrent sweeps over rows and
    then columns), upsampled back to full resolution by a transposed convolution (a linear
    map per patch), concatenated with the input pixels, and classified per pixel.
    With ``slice_rnn=True`` and a ``(B, C, D, H, W)`` input, a bidirectional recurrent pass
    across the slices at each patch position follows the in-plane layers.

    Output logits ``(B, K, H, W)`` (or ``(B, K, D, H, W)``). Any ``H, W`` works (padded to
    a multiple of ``patch_size`` internally); the parameter count does not depend on them.

    Notes
    -----
    Visin et al., "ReNet: A recurrent neural network based alternative to convolutional
    networks", arXiv:1505.00393, 2015; Visin et al., "ReSeg: A recurrent neural network-based
    model for semantic segmentation", CVPR Workshops 2016.

    Examples
    --------
    >>> net = ReNetSegmenter(ReNetSegmenterConfig(hidden_size=4, up_channels=4, num_layers=1))
    >>> net(torch.zeros(2, 1, 10, 10)).shape
    torch.Size([2, 3, 10, 10])
    """

    Config = ReNetSegmenterConfig

    def __init__(self, config: ReNetSegmenterConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        width = c.in_channels * c.patch_size**2
        layers = []
        for _ in range(c.num_layers):
            layers.append(ReNetLayer(width, c.hidden_size, c.cell))
            width = 2 * c.hidden_size
        self.layers = nn.ModuleList(layers)
        self.across: nn.Module | None = None
        if c.slice_rnn:
            self.across = _rnn(c.cell, width, c.hidden_size, 1, True)
        p = c.patch_size
        self.up = nn.ConvTranspose2d(width, c.up_channels, kernel_size=p, stride=p)
        self.head = nn.Sequential(
            nn.Conv2d(c.up_channels + c.in_channels, c.up_channels, 1),  # per-pixel linear
            nn.ReLU(),
            nn.Conv2d(c.up_channels, c.num_classes, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, H, W)`` (or ``(B, K, D, H, W)``) of images of the same spatial shape."""
        was_3d = x.ndim == 5
        x, d = fold_slices(x, "ReNetSegmenter")
        if x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"ReNetSegmenter was built for {counted(self.config.in_channels, 'channel')}; "
                f"got {x.shape[1]}."
            )
        h, w = x.shape[-2:]
        p = self.config.patch_size
        padded = F.pad(x, (0, -w % p, 0, -h % p))
        bd, ch, hp, wp = padded.shape
        z = F.unfold(padded, p, stride=p).reshape(bd, ch * p * p, hp // p, wp // p)
        for layer in self.layers:
            z = layer(z)  # (B*D, 2h, H/p, W/p)
        if self.across is not None and was_3d:
            z = self._across_slices(z, d)
        up = self.up(z)[..., :h, :w]  # (B*D, up, H, W)
        logits = self.head(torch.cat([up, x], dim=1))  # (B*D, K, H, W)
        return unfold_slices(logits, d, was_3d)

    def _across_slices(self, z: torch.Tensor, d: int) -> torch.Tensor:
        assert self.across is not None
        bd, f, h, w = z.shape
        seq = z.reshape(bd // d, d, f, h, w).permute(0, 3, 4, 1, 2).reshape(-1, d, f)
        seq, _ = self.across(seq)  # (B*h*w, D, 2h)
        return seq.reshape(bd // d, h, w, d, f).permute(0, 3, 4, 1, 2).reshape(bd, f, h, w)
