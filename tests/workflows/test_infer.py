"""Inference: predict, flip TTA, checkpoint reload, ensembles, transfer learning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from models import build_model
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.checkpoint import CheckpointError
from workflows.train.infer import (
    ensemble,
    init_from_checkpoint,
    load_model_from_checkpoint,
    predict,
)
from workflows.train.loop import TrainConfig, train

SIZE = 16


@pytest.fixture(scope="module")
def seg() -> PhantomDataset:
    return PhantomDataset(12, size=SIZE, task="segmentation", seed=3)


@pytest.fixture(scope="module")
def cls() -> PhantomDataset:
    return PhantomDataset(24, size=SIZE, seed=4)


def _trained(tmp_path: Path, ds: PhantomDataset, name: str, seed: int, **params: Any) -> Path:
    torch.manual_seed(seed)
    model = build_model(name, **params)
    train(model, ds, ds, TrainConfig(epochs=1, batch_size=6, seed=seed), tmp_path / str(seed))
    return tmp_path / str(seed) / "checkpoints" / "last.pt"


class _ColumnRamp(nn.Module):
    """Per-pixel logits ``[x * col, 0]``: not mirror-symmetric, so flips matter."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ramp = torch.arange(x.shape[-1], dtype=x.dtype)  # (W,)
        return torch.cat([x * ramp, torch.zeros_like(x)], dim=1)  # (B, 2, H, W)


def test_predict_is_softmax_in_dataset_order(seg: PhantomDataset) -> None:
    torch.manual_seed(0)
    model = build_model("mlp_segmenter", hidden=(8,), context=4).eval()
    probs = predict(model, seg, batch_size=5)
    images = torch.stack([seg[i]["image"] for i in range(len(seg))])
    with torch.no_grad():
        expected = model(images).softmax(dim=1).numpy()
    assert probs.shape == (12, 3, SIZE, SIZE) and probs.dtype == np.float32
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_tta_flip_averages_the_mirrored_prediction(seg: PhantomDataset) -> None:
    model = _ColumnRamp()
    plain = predict(model, seg, tta_flip=False)
    tta = predict(model, seg, tta_flip=True)
    images = torch.stack([seg[i]["image"] for i in range(len(seg))]).numpy()
    w = np.arange(SIZE, dtype=np.float32)
    # p(class 0) = sigmoid(x * col); mirrored run: sigmoid(x * (W-1-col)) after unflipping.
    expected = (1 / (1 + np.exp(-images * w)) + 1 / (1 + np.exp(-images * w[::-1]))) / 2
    np.testing.assert_allclose(tta[:, :1], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(plain, tta)


def test_checkpoint_reload_gives_the_same_predictions(tmp_path: Path, seg: PhantomDataset) -> None:
    torch.manual_seed(1)
    model = build_model("renet_segmenter", hidden_size=4, up_channels=4, num_layers=1)
    train(model, seg, seg, TrainConfig(epochs=1, batch_size=6), tmp_path)
    reloaded = load_model_from_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert type(reloaded) is type(model) and not reloaded.training
    np.testing.assert_array_equal(predict(model, seg), predict(reloaded, seg))


def test_ensemble_is_the_mean_of_its_members(tmp_path: Path, cls: PhantomDataset) -> None:
    params = {"in_features": SIZE * SIZE, "hidden": (8,)}
    a = _trained(tmp_path, cls, "mlp_classifier", 1, **params)
    b = _trained(tmp_path, cls, "mlp_classifier", 2, **params)
    pa = predict(load_model_from_checkpoint(a), cls)
    pb = predict(load_model_from_checkpoint(b), cls)
    assert not np.allclose(pa, pb)
    np.testing.assert_allclose(ensemble([a, b], cls), (pa + pb) / 2, rtol=1e-6)
    np.testing.assert_allclose(ensemble([a, a], cls), pa, rtol=1e-6)


def test_ensemble_of_runs_with_other_class_orders_is_refused(
    tmp_path: Path, cls: PhantomDataset
) -> None:
    """Two runs whose classes.json give the classes in other orders: their probabilities
    were averaged index by index, benign of one with malignant of the other, silently."""
    params = {"in_features": SIZE * SIZE, "hidden": (8,)}
    a = _trained(tmp_path, cls, "mlp_classifier", 1, **params)
    b = _trained(tmp_path, cls, "mlp_classifier", 2, **params)
    c = _trained(tmp_path, cls, "mlp_classifier", 3, **params)
    for ckpt, names in ((a, ["benign", "malignant"]), (b, ["malignant", "benign"]),
                        (c, ["benign", "malignant"])):  # fmt: skip
        (ckpt.parent.parent / "classes.json").write_text(json.dumps({"class_names": names}))
    with pytest.raises(ValueError, match=r"other classes or another class order \(1: \['benign'"):
        ensemble([a, b], cls)
    pa, pc = (predict(load_model_from_checkpoint(x), cls) for x in (a, c))
    np.testing.assert_allclose(ensemble([a, c], cls), (pa + pc) / 2, rtol=1e-6)  # same order


def test_transfer_learning_copies_and_freezes(tmp_path: Path, cls: PhantomDataset) -> None:
    source = _trained(tmp_path, cls, "mlp_classifier", 1, in_features=SIZE * SIZE, hidden=(8,))
    src = load_model_from_checkpoint(source)
    torch.manual_seed(5)
    # A new task with 3 classes: the body transfers, the head (new shape) does not.
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,), num_classes=3)
    init_from_checkpoint(model, source, freeze=["body.*"])
    assert torch.equal(model.body[0].weight, src.body[0].weight)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"body.0.weight", "body.1.weight", "body.1.bias"}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    relabel = [dict(item, label=torch.tensor(i % 3)) for i, item in enumerate(cls)]
    train(model, relabel, None, TrainConfig(epochs=1, batch_size=6), tmp_path / "new")
    after = model.state_dict()
    assert torch.equal(after["body.0.weight"], before["body.0.weight"])
    assert not torch.equal(after["head.weight"], before["head.weight"])


def test_transfer_learning_errors(tmp_path: Path, cls: PhantomDataset) -> None:
    source = _trained(tmp_path, cls, "mlp_classifier", 1, in_features=SIZE * SIZE, hidden=(8,))
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(8,))
    with pytest.raises(ConfigError, match=r"'encoder\.\*' matches no parameter"):
        init_from_checkpoint(model, source, freeze=["encoder.*"])
    other = build_model("mlp_segmenter", hidden=(4,), context=0)
    with pytest.raises(CheckpointError, match="no parameter matches"):
        init_from_checkpoint(other, source)
    with pytest.raises(CheckpointError, match="only local"):
        init_from_checkpoint(model, "https://example.org/weights.pt")


def test_evaluation_predicts_with_the_runs_tta_flip_batch_size_and_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mutation: ``evaluate.tta_flip`` not passed on when a run's checkpoint is evaluated
    (the user's test-time flips silently off)."""
    import workflows.train.infer as infer
    from workflows.run.config import RunConfig
    from workflows.run.evaluate import predict_with_checkpoint

    seen: dict[str, object] = {}
    monkeypatch.setattr(infer, "load_model_from_checkpoint", lambda path: "model")
    monkeypatch.setattr(infer, "predict", lambda model, data, **kw: seen.update(kw, model=model))
    raw = {"task": "segmentation", "data": {"source": "x"}, "model": {"type": "mlp_segmenter"},
           "train": {"batch_size": 3, "device": "cpu"}, "evaluate": {"tta_flip": True}}  # fmt: skip
    predict_with_checkpoint(RunConfig.model_validate(raw), Path("best.pt"), [])
    assert seen == {"model": "model", "batch_size": 3, "tta_flip": True, "device": "cpu"}


def test_predict_uses_the_running_statistics_of_a_model_in_training() -> None:
    """A model still in training mode is predicted in eval mode (mutation sweep mut88:
    ``.eval()`` dropped survived test_infer.py and test_tta_features.py) and given back in
    training mode. Batch norm of running mean 0 and variance 1 passes the images (2, 0) and
    (0, 0) on as logits: softmax (e^2 / (e^2 + 1), 1 / (e^2 + 1)) and (.5, .5). In training
    mode it would normalise by the batch (logits (1, 0), (-1, 0)) and move its running mean
    to 0.1."""
    model = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(2, eps=0.0)).train()
    items = [{"image": torch.tensor([[[2.0, 0.0]]])}, {"image": torch.zeros(1, 1, 2)}]
    probs = predict(model, items, batch_size=2, device="cpu")  # type: ignore[arg-type]
    e2 = np.exp(2.0)
    np.testing.assert_allclose(probs, [[e2 / (e2 + 1), 1 / (e2 + 1)], [0.5, 0.5]], rtol=1e-6)
    assert model.training
    assert model[1].running_mean.tolist() == [0.0, 0.0]
