"""Models: registry, shapes, parameter counts, receptive fields, losses."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import torch

from models import MODELS, build_model, model_spec, soft_dice_loss
from models.losses import TrainingLoss
from pipeline.errors import ConfigError

# name -> (params, input shape, output shape); every registered model must appear here.
CASES: dict[str, tuple[dict[str, Any], tuple[int, ...], tuple[int, ...]]] = {
    "mlp_classifier": ({"in_features": 2 * 8 * 8, "hidden": (8,)}, (3, 2, 8, 8), (3, 2)),
    "mlp_segmenter": ({"in_channels": 2, "hidden": (8,), "context": 4},
                      (3, 2, 9, 11), (3, 3, 9, 11)),
    "recurrent_classifier": ({"in_features": 64, "encoder": (8,), "hidden_size": 4},
                             (3, 1, 5, 8, 8), (3, 2)),
    "renet_segmenter": ({"hidden_size": 4, "up_channels": 4, "patch_size": 2},
                        (2, 1, 9, 11), (2, 3, 9, 11)),
    "cnn_classifier": ({"channels": (4, 8), "num_classes": 4}, (2, 1, 16, 16), (2, 4)),
    "unet": ({"features": (4, 4, 8, 8, 16, 4)}, (2, 1, 32, 32), (2, 3, 32, 32)),
    "resnet_classifier": ({"widths": (4, 4, 8, 8), "layers": (1, 1, 1, 1), "num_classes": 3},
                          (2, 1, 12, 12), (2, 3)),
    "mixer_classifier": ({"image_size": (10, 9), "in_channels": 2, "patch_size": 3, "dim": 8,
                          "depth": 2, "token_hidden": 4, "channel_hidden": 8},
                         (3, 2, 10, 9), (3, 2)),
    "mixer_unet": ({"dim": 4, "levels": 2, "depth": 2, "window": 2, "head_channels": 4,
                    "num_classes": 3}, (2, 1, 9, 11), (2, 3, 9, 11)),
    "reseg_unet": ({"widths": (4, 8), "hidden_size": 4, "head_channels": 4, "num_classes": 3},
                   (2, 1, 9, 11), (2, 3, 9, 11)),
}  # fmt: skip


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_every_registered_model_has_a_case() -> None:
    assert sorted(CASES) == MODELS.names()


@pytest.mark.parametrize("name", sorted(CASES))
def test_built_by_name_gives_the_agreed_shapes(name: str) -> None:
    params, in_shape, out_shape = CASES[name]
    model = MODELS.build({"type": name, **params}).eval()
    assert model(torch.randn(in_shape)).shape == out_shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_spec_round_trip_is_plain_json(name: str) -> None:
    params = CASES[name][0]
    model = build_model(name, **params)
    spec = model_spec(model)
    assert json.loads(json.dumps(spec)) == spec
    rebuilt = MODELS.build(spec)
    assert rebuilt.config == model.config  # type: ignore[attr-defined]
    assert n_params(rebuilt) == n_params(model)


def test_series_models_take_volumes() -> None:
    seg = build_model("mlp_segmenter", hidden=(4,), context=2).eval()
    assert seg(torch.randn(2, 1, 3, 8, 8)).shape == (2, 3, 3, 8, 8)
    renet = build_model("renet_segmenter", hidden_size=4, up_channels=4, slice_rnn=True).eval()
    assert renet(torch.randn(2, 1, 3, 8, 8)).shape == (2, 3, 3, 8, 8)
    rnn = build_model("recurrent_classifier", in_features=6, encoder=(), cell="lstm", pool="mean")
    assert rnn.eval()(torch.randn(2, 7, 6)).shape == (2, 2)  # (B, D, F) features
    cnn3 = build_model("cnn_classifier", spatial_dims=3, channels=(4,)).eval()
    assert cnn3(torch.randn(2, 1, 4, 8, 8)).shape == (2, 2)


def test_mlp_segmenter_parameter_count_is_hand_computed_and_size_free() -> None:
    model = build_model(
        "mlp_segmenter", patch_size=3, hidden=(4,), context=2, context_grid=2, batch_norm=False
    ).eval()
    # context: Linear(1*2*2 -> 2) = 8 + 2; per-pixel features 3*3 + 2 coords + 2 context = 13;
    # body Linear(13 -> 4) = 52 + 4; head Linear(4 -> 3) = 12 + 3.
    assert n_params(model) == 10 + 56 + 15
    for size in (16, 128):
        assert model(torch.randn(1, 1, size, size)).shape == (1, 3, size, size)
    assert n_params(model) == 81  # nothing was built lazily for the larger image


def test_renet_parameter_count_is_size_free() -> None:
    model = build_model("renet_segmenter", hidden_size=4, up_channels=4, num_layers=1).eval()
    count = n_params(model)
    for size in (12, 96):
        assert model(torch.randn(1, 1, size, size)).shape == (1, 3, size, size)
    assert n_params(model) == count


def _changes_at(
    model: torch.nn.Module, pixel: tuple[int, int], poke: tuple[int, int], size: int = 16
) -> bool:
    torch.manual_seed(0)
    x = torch.randn(1, 1, size, size)
    y = x.clone()
    y[0, 0, poke[0], poke[1]] += 5.0
    with torch.no_grad():
        a, b = model(x)[0, :, pixel[0], pixel[1]], model(y)[0, :, pixel[0], pixel[1]]
    return not torch.equal(a, b)


def test_mlp_segmenter_sees_its_patch_only_without_context() -> None:
    model = build_model("mlp_segmenter", patch_size=3, hidden=(8,), context=0).eval()
    assert _changes_at(model, (5, 5), (6, 6))  # inside the 3x3 patch
    assert not _changes_at(model, (5, 5), (12, 12))  # outside it
    with_context = build_model("mlp_segmenter", patch_size=3, hidden=(8,), context=4).eval()
    assert _changes_at(with_context, (5, 5), (12, 12))  # through the global context vector


def test_renet_sees_the_whole_image() -> None:
    model = build_model("renet_segmenter", hidden_size=4, up_channels=4, num_layers=1).eval()
    # Row sweep then column sweep carry the far corner to (0, 0); at random init the effect
    # fades geometrically with distance, so a small image keeps it above float precision.
    assert _changes_at(model, (0, 0), (5, 5), size=6)
    patch_only = build_model("mlp_segmenter", patch_size=3, hidden=(8,), context=0, coords=False)
    assert not _changes_at(patch_only.eval(), (0, 0), (5, 5), size=6)


def test_recurrent_classifier_depends_on_slice_order() -> None:
    torch.manual_seed(0)
    model = build_model("recurrent_classifier", in_features=16, encoder=(8,), bidirectional=False)
    x = torch.randn(1, 1, 4, 4, 4)
    with torch.no_grad():
        assert not torch.allclose(model.eval()(x), model(x.flip(2)))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"type": "mlp_net"}, "Unknown model type 'mlp_net'; choose one of: cnn_classifier"),
        ({"type": "mlp_segmenter", "hiden": (4,)}, r"Unknown parameter \['hiden'\]"),
        ({"type": "mlp_classifier"}, "in_features"),
        ({"type": "mlp_segmenter", "activation": "swish"}, "'activation' parameter of MLPSeg"),
        ({"type": "mlp_segmenter", "patch_size": 4}, "must be odd; got 4"),
        ({"type": "recurrent_classifier", "in_features": 4, "cell": "rnn"}, "'cell'.*gru, lstm"),
        ({"type": "unet", "features": (4, 8)}, "must hold 6 sizes"),
        ({"type": "unet", "norm": "group"}, "'norm' parameter of UNet.*instance, batch"),
        ({"type": "cnn_classifier", "num_classes": 1}, "'num_classes'.*>= 2; got 1"),
    ],
)
def test_bad_specs_are_config_errors_naming_the_parameter(spec: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MODELS.build(spec)


def test_wrong_input_shapes_are_named() -> None:
    model = build_model("mlp_classifier", in_features=64, hidden=(4,))
    with pytest.raises(ValueError, match="built for 64 input features; got 49"):
        model(torch.randn(2, 1, 7, 7))
    rnn = build_model("recurrent_classifier", in_features=64)
    with pytest.raises(ValueError, match=r"\(B, C, D, H, W\)"):
        rnn(torch.randn(2, 1, 8, 8))


def test_counts_in_model_messages_take_their_number() -> None:
    """'Unknown parameter(s) ...' and 'was built for 1 channel(s)' gave the noun no number."""
    with pytest.raises(ConfigError, match=r"^Unknown parameters \['hiden', 'widht'\] for model"):
        MODELS.build({"type": "mlp_segmenter", "hiden": (4,), "widht": 3})
    with pytest.raises(ConfigError, match=r"^Unknown parameter \['hiden'\] for model"):
        MODELS.build({"type": "mlp_segmenter", "hiden": (4,)})
    one = torch.randn(1, 3, 8, 8)
    for name, params, count in (
        ("mlp_segmenter", {"hidden": (4,)}, "1 channel"),
        ("renet_segmenter", {"hidden_size": 4, "up_channels": 4, "patch_size": 2}, "1 channel"),
        ("mlp_segmenter", {"hidden": (4,), "in_channels": 2}, "2 channels"),
    ):
        with pytest.raises(ValueError, match=f"was built for {count}; got 3"):
            build_model(name, **params)(one)
    from models.layers import fold_slices

    with pytest.raises(ValueError, match=r"^ReSegUNet was built for 1 channel; got 3"):
        fold_slices(one, "ReSegUNet", 1)


def test_soft_dice_loss_hand_computed() -> None:
    # Two pixels, two classes; softmax gives p(class 1) = [0.5, 1.0].
    logits = torch.tensor([[[[0.0, -50.0]], [[0.0, 50.0]]]])  # (B=1, K=2, H=1, W=2)
    target = torch.tensor([[[1, 1]]])
    # class 1: 2 * (0.5 + 1) / ((0.5 + 1) + 2) = 3 / 3.5
    expected = 1 - 3 / 3.5
    loss = soft_dice_loss(logits, target, eps=0.0)
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    perfect = soft_dice_loss(torch.tensor([[[[-50.0, -50.0]], [[50.0, 50.0]]]]), target)
    assert perfect.item() == pytest.approx(0.0, abs=1e-6)


def test_soft_dice_loss_per_image_or_pooled_over_the_batch() -> None:
    # image 0: head [1, 1] predicted exactly; image 1: head [1, 0] missed (p(class 1) = 0)
    on, off = [[[-50.0, -50.0]], [[50.0, 50.0]]], [[[50.0, 50.0]], [[-50.0, -50.0]]]
    logits = torch.tensor([on, off])  # (B=2, K=2, H=1, W=2)
    target = torch.tensor([[[1, 1]], [[1, 0]]])
    # pooled: 2 * (2 + 0) / ((2 + 0) + (2 + 1)) = 0.8; per image: Dice 1 and 0, mean 0.5
    pooled = soft_dice_loss(logits, target, eps=0.0)
    assert pooled.item() == pytest.approx(1 - 0.8, abs=1e-6)
    per_image = soft_dice_loss(logits, target, eps=0.0, batch=False)
    assert per_image.item() == pytest.approx(1 - 0.5, abs=1e-6)
    loss = TrainingLoss("dice", dice_batch=False)(logits, target)
    assert loss.item() == pytest.approx(0.5, abs=1e-5)


def test_specs_import_without_torch() -> None:
    code = "import sys, models.specs; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_registry_is_filled_in_one_place() -> None:
    """models.registry imports no model module; ``from models import MODELS`` sees them all."""
    code = (
        "import sys, models.registry as r; n = len(r.MODELS); "
        "from models import MODELS; "
        "print(n, 'models.mlp' in sys.modules or 'models.conv' in sys.modules, MODELS.names())"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    from models.specs import MODEL_SPECS  # every model has a spec; the lists agree

    assert out.stdout.strip() == f"0 True {sorted(MODEL_SPECS)}"


def test_a_missing_required_parameter_is_named() -> None:
    """It was the dataclass's 'MLPClassifierConfig.__init__() missing 1 required positional
    argument: 'in_features''."""
    with pytest.raises(ConfigError, match=r"^Model 'mlp_classifier' needs parameter in_features, "
                       r"not given; valid parameters: in_features, num_classes"):  # fmt: skip
        build_model("mlp_classifier")
