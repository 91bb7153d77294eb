"""Saliency via Captum for every model family, and the Adebayo et al. 2018 sanity check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from models import MODELS
from pipeline.explain import METHODS, attribute, randomization_check, randomized_copy

pytest.importorskip("captum")


def _signal_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """16x16 images; class 1 has a bright 4x4 patch at rows/cols 2-5, class 0 does not."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 16, 16, generator=g) * 0.3
    y = torch.arange(n) % 2
    x[y == 1, :, 2:6, 2:6] += 2.0
    return x, y


@pytest.fixture(scope="module")
def trained_mlp() -> torch.nn.Module:
    torch.manual_seed(0)
    model = MODELS.build({"type": "mlp_classifier", "in_features": 256, "num_classes": 2,
                          "hidden": [32], "batch_norm": False})  # fmt: skip
    x, y = _signal_data(128, 0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def test_attributions_find_the_signal_and_fail_the_randomisation_check(
    trained_mlp: torch.nn.Module,
) -> None:
    model = trained_mlp
    x, _ = _signal_data(4, 1)
    image = x[1].numpy()  # class 1
    assert int(model(x[1:2]).argmax()) == 1
    for method in METHODS:
        attr = attribute(model, image, 1, method=method)
        assert attr.shape == (16, 16) and np.isfinite(attr).all()
        # most of the positive evidence lies in the patch (16 of 256 pixels; 6% by area)
        positive = np.clip(attr, 0, None)
        assert positive[2:6, 2:6].sum() / positive.sum() > 0.3, method
        check = randomization_check(model, image, 1, method=method, seed=0)
        # Adebayo et al.: a faithful map changes when the weights are randomised
        assert check["spearman"] < 0.5, check


def test_randomized_copy_changes_every_layer_and_leaves_the_model(
    trained_mlp: torch.nn.Module,
) -> None:
    model = trained_mlp
    before = {k: v.clone() for k, v in model.state_dict().items()}
    clone = randomized_copy(model, seed=1)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])  # the trained model is untouched
    changed = [
        n
        for n, p in clone.named_parameters()
        if not torch.equal(p, dict(model.named_parameters())[n])
    ]
    assert len(changed) == len(list(model.parameters()))


@pytest.mark.parametrize(
    ("spec", "shape", "segmentation"),
    [
        ({"type": "mlp_classifier", "in_features": 64, "hidden": [8]}, (1, 8, 8), False),
        (
            {"type": "recurrent_classifier", "in_features": 64, "hidden_size": 8, "encoder": [8]},
            (1, 3, 8, 8),
            False,
        ),
        ({"type": "cnn_classifier", "channels": [4, 8]}, (1, 16, 16), False),
        (
            {
                "type": "mlp_segmenter",
                "num_classes": 2,
                "patch_size": 3,
                "hidden": [8],
                "context": 4,
            },
            (1, 8, 8),
            True,
        ),
        (
            {
                "type": "renet_segmenter",
                "num_classes": 2,
                "hidden_size": 4,
                "num_layers": 1,
                "up_channels": 4,
            },
            (1, 8, 8),
            True,
        ),
    ],
    ids=["mlp", "recurrent", "cnn", "mlp-segmenter", "renet-segmenter"],
)
def test_every_model_family_gets_both_maps(
    spec: dict[str, Any], shape: tuple[int, ...], segmentation: bool
) -> None:
    torch.manual_seed(0)
    model = MODELS.build(spec).eval()
    image = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    target = 1
    if segmentation:  # the class the model predicts most (a class it never predicts: no evidence)
        labels = model(torch.from_numpy(image)[None]).argmax(dim=1)
        target = int(torch.bincount(labels.flatten(), minlength=2).argmax())
    for method in METHODS:
        attr = attribute(model, image, target, method=method, segmentation=segmentation)
        assert attr.shape == shape[1:] and np.isfinite(attr).all()
        assert np.abs(attr).sum() > 0


def test_a_constant_attribution_map_gives_nan_with_a_note_and_no_warning() -> None:
    """A model whose output does not depend on the image (its gradient is zero everywhere):
    the rank correlation is undefined; said in the result, not as a scipy warning."""
    import warnings

    class Constant(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias = torch.nn.Parameter(torch.tensor([0.2, -0.1]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.bias.expand(len(x), 2) + 0.0 * x.flatten(1).sum(1, keepdim=True)

    image = np.random.default_rng(0).normal(size=(1, 8, 8)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = randomization_check(Constant(), image, 1, method=METHODS[0], seed=0)
    assert np.isnan(check["spearman"])
    assert check["note"] == "the trained model's attribution map is constant: no rank correlation"


class _Counting(torch.nn.Module):
    """``model``, noting the batch size of every forward pass."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model, self.batches = model, []  # type: list[int]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(int(x.shape[0]))
        return self.model(x)


def test_batch_size_bounds_every_forward_pass_and_leaves_the_maps(
    trained_mlp: torch.nn.Module,
) -> None:
    """A volume's 64 occluded copies went through the model 32 at a time and its 24
    integrated-gradient steps 24 at a time, with their gradients: memory a run that trained
    2 volumes at a time need not have. Now at most ``batch_size``, the same maps."""
    image = _signal_data(2, 1)[0][1].numpy()
    for method in METHODS:
        wide, narrow = _Counting(trained_mlp), _Counting(trained_mlp)
        reference = attribute(wide, image, 1, method=method)
        bounded = attribute(narrow, image, 1, method=method, batch_size=3)
        assert max(wide.batches) == {"occlusion": 32, "integrated_gradients": 24}[method]
        assert max(narrow.batches) == 3
        # occlusion: 8 x 8 = 64 copies and the image; integrated gradients: 24 steps
        assert (
            sum(narrow.batches)
            == sum(wide.batches)
            == {"occlusion": 65, "integrated_gradients": 24}[method]
        )
        # float32 matrix products of another batch size: sums in another order (~2e-6)
        np.testing.assert_allclose(bounded, reference, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="batch_size must be at least 1; got 0"):
        attribute(trained_mlp, image, 1, method="occlusion", batch_size=0)
