"""Test-time flipping of inputs that have no width axis to mirror.

Until 2026-12-02 ``predict(tta_flip=True)`` flipped the last axis of whatever it was given: a
``pca`` stage's scores ``(K, 1, 1)`` were left as they were (the "augmentation" averaged one
prediction with itself), and feature vectors ``(F,)`` or series of them ``(D, F)`` were read
backwards (the mean of the right prediction and one of scrambled features), without a word;
``radpipe run`` with a ``pca`` stage and ``evaluate.tta_flip: true`` did the former.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from models import build_model
from pipeline.errors import ConfigError
from workflows.run.config import validate_config
from workflows.train.infer import predict


def _items(shape: tuple[int, ...]) -> list[dict[str, Any]]:
    g = torch.Generator().manual_seed(0)
    return [{"image": torch.randn(*shape, generator=g), "id": f"s{i}"} for i in range(4)]


@pytest.mark.parametrize(
    ("model", "shape", "shown"),
    [
        ({"type": "mlp_classifier", "in_features": 6}, (6, 1, 1), r"\(6, 1, 1\)"),
        ({"type": "mlp_classifier", "in_features": 6}, (6,), r"\(6,\)"),
        ({"type": "recurrent_classifier", "in_features": 6}, (3, 6), r"\(3, 6\)"),
    ],
    ids=["pca-scores", "vector", "series-of-vectors"],
)
def test_tta_flip_on_features_is_refused(model: dict[str, Any], shape, shown) -> None:
    net = build_model(model.pop("type"), num_classes=2, **model)
    items = _items(shape)
    assert predict(net, items).shape == (4, 2)  # without the flip: fine
    with pytest.raises(ValueError, match=rf"items' images are {shown}: features"):
        predict(net, items, tta_flip=True)


def test_tta_flip_on_images_is_the_mean_with_the_mirror() -> None:
    torch.manual_seed(0)
    net = build_model("cnn_classifier", num_classes=2).eval()
    items = _items((1, 8, 8))
    x = torch.stack([i["image"] for i in items])
    with torch.no_grad():  # by hand: the softmax of the image and of its left-right mirror
        want = (net(x).softmax(1) + net(x.flip(-1)).softmax(1)) / 2
    np.testing.assert_allclose(predict(net, items, tta_flip=True), want.numpy(), atol=1e-6)


def _config(tta_flip: bool) -> Any:
    return validate_config(
        {
            "task": "classification",
            "data": {"source": "s/dicom", "labels": "s/labels.csv"},
            "preprocess": [{"type": "resize", "shape": [8, 8]}, {"type": "pca", "n_components": 4}],
            "model": {"type": "mlp_classifier"},
            "evaluate": {"tta_flip": tta_flip},
        }
    )


def test_a_run_with_pca_and_tta_flip_is_refused_when_its_config_is_read() -> None:
    assert _config(False).evaluate.tta_flip is False
    with pytest.raises(ConfigError, match=r"preprocess item 1 \(pca\) makes it a vector of"):
        _config(True)
