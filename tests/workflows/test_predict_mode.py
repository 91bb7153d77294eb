"""``predict()`` from research code: the model's mode is kept, bad items are named.

Before: ``predict(model, val)`` in the middle of one's own training loop left the model in
eval mode, so the epochs after it trained without dropout and without batch-norm updates,
unsaid; and a dataset of bare tensors failed with torch's ``IndexError: too many indices for
tensor of dimension 4``.
"""

from __future__ import annotations

import pytest
import torch

from models import build_model
from workflows.train.infer import predict


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("mlp_classifier", in_features=16, num_classes=3, hidden=(8,),
                       dropout=0.5, batch_norm=True)  # fmt: skip


def test_a_model_in_training_stays_in_training() -> None:
    model = _model()
    images = torch.randn(5, 1, 4, 4)
    items = [{"image": x, "id": str(i)} for i, x in enumerate(images)]
    model.eval()
    with torch.no_grad():
        want = model(images).softmax(dim=1).numpy()  # eval mode, worked out here
    model.train()
    got = predict(model, items, batch_size=2, device="cpu")
    assert model.training
    assert all(m.training for m in model.modules())
    assert got.shape == (5, 3) and got.dtype == "float32"
    assert abs(got - want).max() < 1e-6
    model.eval()
    predict(model, items, device="cpu")
    assert not model.training


def test_items_that_are_not_dicts_are_named() -> None:
    with pytest.raises(ValueError, match=r"items must be dicts with an 'image'.*got Tensor"):
        predict(_model(), [torch.zeros(1, 4, 4)] * 2, device="cpu")
    with pytest.raises(ValueError, match=r"got \['id', 'img'\]"):
        predict(_model(), [{"img": torch.zeros(1, 4, 4), "id": "a"}], device="cpu")
