"""Transfer learning reports what it loaded and skipped, and refuses to freeze parameters it
did not load (issue 13, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models import build_model
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.infer import init_from_checkpoint
from workflows.train.loop import TrainConfig, train

SIZE = 16


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-class MLP checkpoint (body 256 -> 8, head 8 -> 2)."""
    folder = tmp_path_factory.mktemp("source")
    torch.manual_seed(0)
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,))
    train(model, PhantomDataset(12, size=SIZE), None,
          TrainConfig(epochs=1, batch_size=6, device="cpu", amp=False), folder)  # fmt: skip
    return folder / "checkpoints" / "last.pt"


def _three_classes() -> torch.nn.Module:
    torch.manual_seed(1)
    return build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,), num_classes=3)


def test_report_lists_loaded_and_skipped_tensors(source: Path) -> None:
    model = _three_classes()
    head_before = model.head.weight.detach().clone()
    report = init_from_checkpoint(model, source, freeze=["body.*"])
    saved = torch.load(source, weights_only=True)["model"]
    assert report.skipped == {
        "head.weight": "shape (2, 8) in the checkpoint, (3, 8) here",
        "head.bias": "shape (2,) in the checkpoint, (3,) here",
    }
    assert set(report.loaded) == set(saved) - {"head.weight", "head.bias"}
    for name in report.loaded:
        assert torch.equal(model.state_dict()[name], saved[name]), name
    assert torch.equal(model.head.weight, head_before)  # kept its initialisation
    assert report.frozen == ["body.0.weight", "body.1.weight", "body.1.bias"]
    assert report.unused == []
    assert "loaded 6 tensors, skipped 2 (head.weight, head.bias), froze 3" in report.summary()


@pytest.mark.parametrize("pattern", ["*", "head.*", "*.bias"])
def test_freezing_a_parameter_that_was_not_loaded_is_refused(source: Path, pattern: str) -> None:
    model = _three_classes()
    with pytest.raises(ConfigError, match=r"not loaded from the checkpoint.*head\.bias \(shape"):
        init_from_checkpoint(model, source, freeze=[pattern])
    assert all(p.requires_grad for p in model.parameters())  # nothing half done
