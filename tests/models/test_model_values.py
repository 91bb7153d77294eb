"""Model outputs checked against values worked out from torch's own layers, not shapes alone:
which hidden states ``pool="last"`` takes, that a volume is cut into its slices (and the
slices' pixels into features) in the right order, and the segmenter's coordinate features.
Mutation testing found these unwatched: any of them could be wrong with every shape right."""

from __future__ import annotations

import pytest
import torch

from models import build_model


def _series(b: int = 2, c: int = 2, d: int = 4, size: int = 3) -> torch.Tensor:
    return torch.randn(b, c, d, size, size, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("cell", ["gru", "lstm", "scan"])
def test_last_pool_takes_each_directions_final_state_of_the_last_layer(cell: str) -> None:
    """Forward direction: the output at the last slice; backward: the output at the first
    (torch's ``out`` holds the last layer only, the forward half first)."""
    torch.manual_seed(0)
    net = build_model("recurrent_classifier", in_features=6, encoder=(), cell=cell,
                      hidden_size=5, num_layers=2, bidirectional=True).eval()  # fmt: skip
    x = torch.randn(3, 4, 6)  # (B, D, F) features
    out, _ = net.rnn(x)  # (B, D, 2*5)
    pooled = torch.cat([out[:, -1, :5], out[:, 0, 5:]], dim=1)
    assert torch.allclose(net(x), net.head(pooled), atol=1e-6)


def test_last_pool_of_one_direction_and_mean_pool() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 4, 6)
    one = build_model("recurrent_classifier", in_features=6, encoder=(), hidden_size=5,
                      num_layers=2, bidirectional=False).eval()  # fmt: skip
    out, _ = one.rnn(x)
    assert torch.allclose(one(x), one.head(out[:, -1]), atol=1e-6)
    mean = build_model("recurrent_classifier", in_features=6, encoder=(), hidden_size=5,
                       pool="mean").eval()  # fmt: skip
    out, _ = mean.rnn(x)
    assert torch.allclose(mean(x), mean.head((out[:, 0] + out[:, 1] + out[:, 2] + out[:, 3]) / 4),
                          atol=1e-6)  # fmt: skip


def test_a_volume_is_read_slice_by_slice_each_slice_channel_major() -> None:
    """(B, C, D, H, W): slice k's features are x[:, :, k] flattened in (C, H, W) order."""
    torch.manual_seed(0)
    net = build_model("recurrent_classifier", in_features=2 * 3 * 3, encoder=(4,)).eval()
    x = _series()
    features = torch.stack([x[:, :, k].reshape(2, -1) for k in range(4)], dim=1)  # (B, D, F)
    assert torch.allclose(net(x), net(features), atol=1e-6)


@pytest.mark.parametrize("name", ["mlp_segmenter", "renet_segmenter"])
def test_segmenters_segment_a_volume_slice_by_slice(name: str) -> None:
    """Without an across-slice layer, slice k's logits are those of slice k alone."""
    torch.manual_seed(0)
    kw = {"hidden": (4,), "context": 2, "context_grid": 1, "patch_size": 3}
    if name == "renet_segmenter":
        kw = {"hidden_size": 3, "up_channels": 3, "num_layers": 1, "patch_size": 2}
    net = build_model(name, in_channels=2, num_classes=3, **kw).eval()
    x = _series(size=4)
    together = net(x)  # (B, K, D, H, W)
    assert together.shape == (2, 3, 4, 4, 4)
    for k in range(4):
        assert torch.allclose(together[:, :, k], net(x[:, :, k]), atol=1e-5)


def test_mlp_segmenter_coordinates_are_row_then_column_from_minus_one_to_one() -> None:
    """Patch 1, no hidden layer, no context: logits = w . (pixel, y, x) + b, by hand."""
    net = build_model("mlp_segmenter", num_classes=2, patch_size=1, hidden=(), context=0,
                      batch_norm=False).eval()  # fmt: skip
    with torch.no_grad():
        net.head.weight.copy_(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))  # y, x
        net.head.bias.zero_()
    logits = net(torch.zeros(1, 1, 3, 5))  # 3 rows, 5 columns
    assert torch.allclose(logits[0, 0], torch.tensor([-1.0, 0.0, 1.0])[:, None].expand(3, 5))
    assert torch.allclose(logits[0, 1], torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]).expand(3, 5))


def test_renet_slice_rnn_adds_one_bidirectional_layer_by_hand() -> None:
    """A GRU direction of input i, hidden h holds 3 (h i + h h + 2 h) parameters.
    Patch 2 of one channel (i = 4), h = 3: row sweep 2 x 81, column sweep (i = 6) 2 x 99,
    transposed convolution 6 x 3 x 2 x 2 + 3 = 75, head (4 x 3 + 3) + (3 x 2 + 2) = 23:
    458; the across-slice layer (i = 6) one more bidirectional layer, 2 x 99: 656."""
    kw = {"patch_size": 2, "hidden_size": 3, "up_channels": 3, "num_layers": 1, "num_classes": 2}
    counts = [
        sum(p.numel() for p in build_model("renet_segmenter", slice_rnn=s, **kw).parameters())
        for s in (False, True)
    ]
    assert counts == [458, 656]
