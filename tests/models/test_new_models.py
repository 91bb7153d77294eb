"""MLP-Mixer classifier, all-MLP U-shaped segmenter, ReSeg U-shaped recurrent segmenter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from models import build_model
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.loop import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_thread")


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_mixer_classifier_parameter_count_by_hand() -> None:
    c, p, d, depth, ht, hc, k = 2, 3, 8, 2, 4, 8, 5
    net = build_model("mixer_classifier", image_size=(10, 9), in_channels=c, patch_size=p, dim=d,
                      depth=depth, token_hidden=ht, channel_hidden=hc, num_classes=k)  # fmt: skip
    t = 4 * 3  # ceil(10/3) * ceil(9/3) tokens
    per_block = 4 * d + (t * ht + ht + ht * t + t) + (d * hc + hc + hc * d + d)
    expected = (c * p * p + 1) * d + depth * per_block + 2 * d + (d + 1) * k
    assert n_params(net) == expected


def test_mixer_unet_parameter_count_by_hand_and_size_free() -> None:
    c, p, d, levels, depth, w, r, f, k = 1, 2, 4, 2, 2, 2, 2, 4, 3
    net = build_model("mixer_unet", in_channels=c, patch_size=p, dim=d, levels=levels, depth=depth,
                      window=w, mlp_ratio=r, head_channels=f, num_classes=k)  # fmt: skip

    def block(ch: int) -> int:
        t = w * w
        return 4 * ch + 2 * (t * t + t) + (ch * r * ch + r * ch + r * ch * ch + ch)

    widths = [d, 2 * d]
    expected = (c * p * p + 1) * d
    expected += sum(depth * block(ch) for ch in widths)  # encoder
    expected += sum(8 * ch + 4 * ch * 2 * ch + 2 * ch for ch in widths[:-1])  # merge
    expected += sum(2 * ch * 4 * ch + 4 * ch for ch in widths[:-1])  # expand
    expected += sum(2 * ch * ch + ch for ch in widths[:-1])  # fuse
    expected += sum(depth * block(ch) for ch in widths[:-1])  # decoder
    expected += 2 * d + (d * p * p * f + p * p * f) + ((f + c) * f + f + f * k + k)
    assert n_params(net) == expected
    for shape in [(1, 1, 8, 8), (1, 1, 30, 17)]:
        assert net(torch.randn(shape)).shape == (1, k, *shape[2:])


def _gru(i: int, h: int) -> int:  # one bidirectional GRU layer (two sets of biases)
    return 2 * (3 * h * (i + h) + 6 * h)


def test_reseg_unet_parameter_count_by_hand() -> None:
    c, (w0, w1), h, f, k = 1, (4, 8), 3, 5, 2
    net = build_model("reseg_unet", in_channels=c, widths=(w0, w1), hidden_size=h,
                      head_channels=f, num_classes=k, renet_from=1)  # fmt: skip
    level0 = 4 * c * w0 + w0 + 2 * w0
    level1 = 4 * w0 * w1 + w1 + 2 * w1 + _gru(w1, h) + _gru(2 * h, h) + 2 * h * w1 + w1
    decoder = (w1 * 4 * w0 + 4 * w0) + (2 * w0 * w0 + w0 + 2 * w0)
    head = (w0 * 4 * f + 4 * f) + ((f + c) * f + f + f * k + k)
    assert n_params(net) == level0 + level1 + decoder + head
    with_slices = build_model("reseg_unet", in_channels=c, widths=(w0, w1), hidden_size=h,
                              head_channels=f, num_classes=k, slice_rnn=True)  # fmt: skip
    assert n_params(with_slices) - n_params(net) == _gru(w1, h) + 2 * h * w1 + w1


def _changed(net: torch.nn.Module, shape: tuple[int, ...], at: tuple[int, ...]) -> torch.Tensor:
    torch.manual_seed(0)
    x = torch.randn(shape)
    y0 = net(x).detach()
    x2 = x.clone()
    x2[at] += 5.0
    return (net(x2).detach() - y0).abs().sum(dim=(0, 1)) > 1e-6


def test_reseg_sees_the_whole_image_and_slices_only_with_slice_rnn() -> None:
    torch.manual_seed(0)
    net = build_model("reseg_unet", widths=(4, 8), hidden_size=4, head_channels=4).eval()
    assert bool(_changed(net, (1, 1, 16, 16), (0, 0, 0, 0))[15, 15])  # far corner reacts
    vol = build_model("reseg_unet", widths=(4, 8), hidden_size=4, head_channels=4,
                      slice_rnn=True).eval()  # fmt: skip
    plain = build_model("reseg_unet", widths=(4, 8), hidden_size=4, head_channels=4).eval()
    for model, expected in [(vol, True), (plain, False)]:
        changed = _changed(model, (1, 1, 3, 16, 16), (0, 0, 0, 5, 5))  # (D, H, W)
        assert bool(changed[2].any()) is expected  # slice 2 reacts to slice 0 iff slice_rnn


def test_mixer_unet_window_mixing_is_local_without_deeper_levels() -> None:
    torch.manual_seed(0)
    # One level, one unshifted block: token mixing stays inside each 2x2-patch window.
    net = build_model("mixer_unet", dim=4, levels=1, depth=1, window=2, patch_size=2).eval()
    changed = _changed(net, (1, 1, 16, 16), (0, 0, 0, 0))
    assert bool(changed[:4, :4].all()) and not bool(changed[4:, :].any())
    assert not bool(changed[:, 4:].any())


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"type": "mixer_classifier", "image_size": (28,)}, "image_size"),
        ({"type": "mixer_unet", "window": 0}, "window"),
        ({"type": "reseg_unet", "renet_from": 3}, "renet_from"),
        ({"type": "reseg_unet", "cell": "rnn"}, "cell"),
    ],
)
def test_bad_new_specs_name_the_parameter(spec: dict[str, Any], match: str) -> None:
    from models import MODELS

    with pytest.raises(ConfigError, match=match):
        MODELS.build(spec)


def test_mixer_classifier_refuses_another_image_size() -> None:
    net = build_model("mixer_classifier", image_size=(28, 28), dim=8, depth=1)
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        net(torch.zeros(1, 1, 32, 32))


# Chance: labels alternate (accuracy 0.5); a background-only segmenter has foreground Dice 0.
LEARNING = [
    ("mixer_classifier", {"image_size": (24, 24), "dim": 16, "depth": 2, "token_hidden": 16,
                          "channel_hidden": 32}, "classification", 200, 10, 1e-2, "val_accuracy",
     0.8),
    # The Mixer U-Net finds the small lesion class only after ~100 steps (measured).
    ("mixer_unet", {"dim": 16, "levels": 2, "depth": 2, "window": 4, "num_classes": 3},
     "segmentation", 96, 12, 1e-2, "val_dice", 0.7),
    ("reseg_unet", {"widths": (16, 32), "hidden_size": 16, "num_classes": 3},
     "segmentation", 48, 12, 1e-2, "val_dice", 0.7),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "params", "task", "n", "epochs", "lr", "metric", "threshold"),
    LEARNING,
    ids=[c[0] for c in LEARNING],
)
def test_new_model_learns_a_small_synthetic_task(
    tmp_path: Path,
    name: str,
    params: dict[str, Any],
    task: str,
    n: int,
    epochs: int,
    lr: float,
    metric: str,
    threshold: float,
) -> None:
    train_ds = PhantomDataset(n, size=24, task=task, seed=1)
    val_ds = PhantomDataset(n // 4, size=24, task=task, seed=2)
    torch.manual_seed(0)
    model = build_model(name, **params)
    config = TrainConfig(epochs=epochs, batch_size=16 if task == "classification" else 8, lr=lr,
                         warmup_epochs=1, schedule="cosine", progress=False)  # fmt: skip
    result = train(model, train_ds, val_ds, config, tmp_path)
    best = max(row[metric] for row in result.history)
    assert best >= threshold, f"{name}: best {metric} {best:.3f} < {threshold}"


@pytest.mark.parametrize(
    ("norm", "kind"), [("instance", "InstanceNorm2d"), ("batch", "BatchNorm2d")]
)
def test_unet_norm_choice(norm: str, kind: str) -> None:
    net = build_model("unet", features=(4, 4, 8, 8, 16, 4), num_classes=2, norm=norm)
    kinds = [type(m).__name__ for m in net.modules() if "Norm" in type(m).__name__]
    assert kinds == [kind] * 18  # 2 convolutions in each of 9 blocks (1 in, 4 down, 4 up)
    # In training mode instance norm treats each image alone; batch norm mixes the batch.
    torch.manual_seed(0)
    x = torch.randn(2, 1, 32, 32)  # the deepest level is 2x2
    with torch.no_grad():
        alone, together = net.train()(x[:1]), net(x)[:1]
    assert torch.allclose(alone, together, atol=1e-5) == (norm == "instance")
