"""The linear recurrent scan (``cell: scan``): its closed form equals the recurrence, by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from models import build_model
from models.scan import LinearScan
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.loop import TrainConfig, train


def _set(scan: LinearScan, decay: float) -> None:
    """One input, one unit, u = x, decay ``decay`` in both directions."""
    with torch.no_grad():
        for direction in scan.layers[0].children():
            direction.proj.weight.fill_(1.0)
            direction.proj.bias.zero_()
            direction.nu.fill_(math.log(-math.log(decay)))


def test_scan_equals_the_recurrence_worked_by_hand() -> None:
    scan = LinearScan(1, 1, bidirectional=True)
    _set(scan, 0.5)
    g = math.sqrt(1 - 0.25)
    x = torch.tensor([[[1.0], [0.0], [0.0], [2.0]]])  # (B=1, L=4, F=1)
    out, h_n = scan(x)
    # forward h = a h + g u: g, g/2, g/4, g/8 + 2g; backward (from the end): 2g + g/8, g/4...
    fwd = torch.tensor([g, g / 2, g / 4, g / 8 + 2 * g])
    bwd = torch.tensor([g + 2 * g / 8, 2 * g / 4, 2 * g / 2, 2 * g])
    torch.testing.assert_close(out[0, :, 0], F.gelu(fwd))
    torch.testing.assert_close(out[0, :, 1], F.gelu(bwd))
    torch.testing.assert_close(h_n[:, 0, 0], F.gelu(torch.stack([fwd[-1], bwd[0]])))


def test_scan_is_causal_and_decays_stay_in_range() -> None:
    torch.manual_seed(0)
    scan = LinearScan(3, 4, num_layers=2)
    x = torch.randn(2, 6, 3)
    y = x.clone()
    y[:, 4:] += 1.0  # change only the last two steps
    out_x, _ = scan(x)
    out_y, _ = scan(y)
    torch.testing.assert_close(out_x[:, :4], out_y[:, :4])  # earlier outputs unaffected
    assert not torch.allclose(out_x[:, 4:], out_y[:, 4:])
    a = scan.layers[0][0].decay()
    assert a.min().item() == pytest.approx(0.5) and a.max().item() == pytest.approx(0.95)


def test_reseg_unet_with_scan_cell_learns_phantoms(tmp_path: Path) -> None:
    train_ds = PhantomDataset(48, size=24, task="segmentation", seed=1)
    val_ds = PhantomDataset(12, size=24, task="segmentation", seed=2)
    torch.manual_seed(0)
    model = build_model("reseg_unet", widths=(16, 32), hidden_size=16, num_classes=3, cell="scan")
    config = TrainConfig(epochs=12, batch_size=8, lr=1e-2, warmup_epochs=1, schedule="cosine",
                         progress=False)  # fmt: skip
    result = train(model, train_ds, val_ds, config, tmp_path)
    # Chance (background only) has foreground Dice 0; the GRU version reaches 0.7 here.
    assert max(row["val_dice"] for row in result.history) >= 0.7
