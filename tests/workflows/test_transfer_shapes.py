"""Transfer learning matches tensors by name and shape, not by element count (mutation sweep
mut119: comparing ``numel()`` instead of ``shape`` passed every test; a transposed tensor of
the same size was then 'loaded' and ``load_state_dict`` failed with torch's size mismatch)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from workflows.train.checkpoint import save_checkpoint
from workflows.train.infer import init_from_checkpoint


def test_a_tensor_of_the_same_size_and_another_shape_is_skipped(tmp_path: Path) -> None:
    source = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))  # 1.weight (2, 3): 6 values
    with torch.no_grad():
        source[0].weight.fill_(0.5)
    save_checkpoint(tmp_path / "src.pt", {"model": source.state_dict()})
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(2, 3))  # 1.weight (3, 2): 6 values too
    head = model[1].weight.detach().clone()
    report = init_from_checkpoint(model, tmp_path / "src.pt")
    assert report.loaded == ["0.weight", "0.bias"]
    assert report.skipped == {
        "1.weight": "shape (2, 3) in the checkpoint, (3, 2) here",
        "1.bias": "shape (2,) in the checkpoint, (3,) here",
    }
    assert torch.equal(model[0].weight, torch.full((3, 4), 0.5))
    assert torch.equal(model[1].weight, head)  # kept its initialisation
