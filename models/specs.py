"""The config dataclass of every model, importable without torch.

``workflows.run.config`` validates a run config's ``model:`` block against :data:`MODEL_SPECS`
before any heavy import; the networks in :mod:`models.mlp`, :mod:`models.recurrent` and
:mod:`models.conv` are built from these same dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import ConfigError

ACTIVATION_NAMES = ("relu", "gelu", "elu", "tanh", "leaky_relu")
CELL_NAMES = ("gru", "lstm", "scan")


def check_choice(model: str, key: str, value: object, choices: Sequence[object]) -> None:
    """Raise a ``ConfigError`` naming the parameter unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(
            f"The {key!r} parameter of {model} must be one of "
            f"{', '.join(map(str, choices))}; got {value!r}."
        )


def check_positive(model: str, key: str, value: int | float) -> None:
    """Raise a ``ConfigError`` naming the parameter unless ``value > 0``."""
    if not value > 0:
        raise ConfigError(f"The {key!r} parameter of {model} must be > 0; got {value!r}.")


def check_common(
    model: str, num_classes: int, hidden: Sequence[int], dropout: float
) -> tuple[int, ...]:
    """Validate the parameters most models share; return ``hidden`` as a tuple."""
    if num_classes < 2:
        raise ConfigError(
            f"The 'num_classes' parameter of {model} must be >= 2; got {num_classes}."
        )
    sizes = tuple(int(h) for h in hidden)
    if any(h < 1 for h in sizes):
        raise ConfigError(f"The 'hidden' parameter of {model} must hold sizes >= 1; got {hidden}.")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"The 'dropout' parameter of {model} must be in [0, 1); got {dropout}.")
    return sizes


@dataclass
class MLPClassifierConfig:
    """Parameters of :class:`MLPClassifier` (``in_features`` = C*H*W, or PCA components)."""

    in_features: int
    num_classes: int = 2
    hidden: tuple[int, ...] = (256, 128)
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = True

    def __post_init__(self) -> None:
        self.hidden = check_common("MLPClassifier", self.num_classes, self.hidden, self.dropout)
        check_choice("MLPClassifier", "activation", self.activation, ACTIVATION_NAMES)
        check_positive("MLPClassifier", "in_features", self.in_features)


@dataclass
class MLPSegmenterConfig:
    """Parameters of :class:`MLPSegmenter`."""

    in_channels: int = 1
    num_classes: int = 3
    patch_size: int = 7
    dilation: int = 1
    hidden: tuple[int, ...] = (128, 64)
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = True
    context: int = 32
    context_grid: int = 8
    coords: bool = True

    def __post_init__(self) -> None:
        self.hidden = check_common("MLPSegmenter", self.num_classes, self.hidden, self.dropout)
        check_choice("MLPSegmenter", "activation", self.activation, ACTIVATION_NAMES)
        for key in ("in_channels", "patch_size", "dilation", "context_grid"):
            check_positive("MLPSegmenter", key, getattr(self, key))
        if self.patch_size % 2 == 0:
            raise ConfigError(
                f"The 'patch_size' parameter of MLPSegmenter must be odd; got {self.patch_size}."
            )
        if self.context < 0:
            raise ConfigError(
                f"The 'context' parameter of MLPSegmenter must be >= 0; got {self.context}."
            )


@dataclass
class RecurrentClassifierConfig:
    """Parameters of :class:`RecurrentClassifier` (``in_features`` = C*H*W of one slice)."""

    in_features: int
    num_classes: int = 2
    encoder: tuple[int, ...] = (128,)
    cell: str = "gru"
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = True
    pool: str = "last"
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = True

    def __post_init__(self) -> None:
        name = "RecurrentClassifier"
        self.encoder = check_common(name, self.num_classes, self.encoder, self.dropout)
        check_choice(name, "cell", self.cell, CELL_NAMES)
        check_choice(name, "pool", self.pool, ("last", "mean"))
        check_choice(name, "activation", self.activation, ACTIVATION_NAMES)
        for key in ("in_features", "hidden_size", "num_layers"):
            check_positive(name, key, getattr(self, key))


@dataclass
class ReNetSegmenterConfig:
    """Parameters of :class:`ReNetSegmenter`."""

    in_channels: int = 1
    num_classes: int = 3
    patch_size: int = 1
    hidden_size: int = 32
    num_layers: int = 2
    cell: str = "gru"
    up_channels: int = 32
    slice_rnn: bool = False

    def __post_init__(self) -> None:
        name = "ReNetSegmenter"
        check_common(name, self.num_classes, (), 0.0)
        check_choice(name, "cell", self.cell, CELL_NAMES)
        for key in ("in_channels", "patch_size", "hidden_size", "num_layers", "up_channels"):
            check_positive(name, key, getattr(self, key))


@dataclass
class CNNClassifierConfig:
    """Parameters of :class:`CNNClassifier`."""

    spatial_dims: int = 2
    in_channels: int = 1
    num_classes: int = 2
    channels: tuple[int, ...] = (16, 32, 64)
    dropout: float = 0.0

    def __post_init__(self) -> None:
        self.channels = check_common("CNNClassifier", self.num_classes, self.channels, self.dropout)
        check_choice("CNNClassifier", "spatial_dims", self.spatial_dims, (2, 3))
        check_positive("CNNClassifier", "in_channels", self.in_channels)
        if not self.channels:
            raise ConfigError("The 'channels' parameter of CNNClassifier must not be empty.")


@dataclass
class ResNetClassifierConfig:
    """Parameters of :class:`ResNetClassifier` (MONAI ``ResNet`` with basic blocks).

    ``layers``: residual blocks in each of the four stages ((2, 2, 2, 2) is ResNet-18's);
    ``widths``: the channels of each stage ((16, 32, 64, 128): a quarter of ResNet-18's);
    ``stem``: ``small`` (one 3x3 convolution, stride 1, no max pool: for images of 28-64
    pixels, as MedMNIST's ResNets) or ``large`` (7x7, stride 2, then a 3x3 max pool:
    ImageNet's, for images of 128 pixels and more).
    """

    spatial_dims: int = 2
    in_channels: int = 1
    num_classes: int = 2
    layers: tuple[int, ...] = (2, 2, 2, 2)
    widths: tuple[int, ...] = (16, 32, 64, 128)
    stem: str = "small"

    def __post_init__(self) -> None:
        name = "ResNetClassifier"
        check_common(name, self.num_classes, (), 0.0)
        self.widths = tuple(int(n) for n in self.widths)
        self.layers = tuple(int(n) for n in self.layers)
        for key in ("layers", "widths"):
            got = getattr(self, key)
            if len(got) != 4 or min(got) < 1:
                raise ConfigError(
                    f"The {key!r} parameter of {name} must hold 4 numbers >= 1 (one per "
                    f"stage); got {list(got)}."
                )
        check_choice(name, "spatial_dims", self.spatial_dims, (2, 3))
        check_choice(name, "stem", self.stem, ("small", "large"))
        check_positive(name, "in_channels", self.in_channels)


@dataclass
class UNetConfig:
    """Parameters of :class:`UNet` (MONAI ``BasicUNet``; six feature sizes).

    ``norm`` follows every convolution: ``instance`` (MONAI's default, affine) or ``batch``.
    """

    spatial_dims: int = 2
    in_channels: int = 1
    num_classes: int = 3
    features: tuple[int, ...] = (16, 16, 32, 64, 128, 16)
    dropout: float = 0.0
    norm: str = "instance"

    def __post_init__(self) -> None:
        self.features = check_common("UNet", self.num_classes, self.features, self.dropout)
        check_choice("UNet", "spatial_dims", self.spatial_dims, (2, 3))
        check_choice("UNet", "norm", self.norm, ("instance", "batch"))
        check_positive("UNet", "in_channels", self.in_channels)
        if len(self.features) != 6:
            raise ConfigError(
                f"The 'features' parameter of UNet must hold 6 sizes; got {self.features}."
            )


@dataclass
class MixerClassifierConfig:
    """Parameters of :class:`MixerClassifier` (``image_size`` = (H, W) of the input)."""

    image_size: tuple[int, ...] = (28, 28)
    in_channels: int = 1
    num_classes: int = 2
    patch_size: int = 4
    dim: int = 64
    depth: int = 4
    token_hidden: int = 32
    channel_hidden: int = 128
    dropout: float = 0.0

    def __post_init__(self) -> None:
        name = "MixerClassifier"
        check_common(name, self.num_classes, (), self.dropout)
        self.image_size = tuple(int(v) for v in self.image_size)
        if len(self.image_size) != 2 or min(self.image_size) < 1:
            raise ConfigError(
                f"The 'image_size' parameter of {name} must be (H, W) with sizes >= 1; "
                f"got {self.image_size}."
            )
        for key in ("in_channels", "patch_size", "dim", "depth", "token_hidden",
                    "channel_hidden"):  # fmt: skip
            check_positive(name, key, getattr(self, key))


@dataclass
class MixerUNetConfig:
    """Parameters of :class:`MixerUNet` (widths ``dim * 2**level``)."""

    in_channels: int = 1
    num_classes: int = 2
    patch_size: int = 2
    dim: int = 32
    levels: int = 3
    depth: int = 2
    window: int = 8
    mlp_ratio: int = 2
    head_channels: int = 16
    dropout: float = 0.0

    def __post_init__(self) -> None:
        name = "MixerUNet"
        check_common(name, self.num_classes, (), self.dropout)
        for key in ("in_channels", "patch_size", "dim", "levels", "depth", "window",
                    "mlp_ratio", "head_channels"):  # fmt: skip
            check_positive(name, key, getattr(self, key))


@dataclass
class ReSegUNetConfig:
    """Parameters of :class:`ReSegUNet` (one width per level, level ``l`` at 1/2**(l+1))."""

    in_channels: int = 1
    num_classes: int = 2
    widths: tuple[int, ...] = (16, 32, 64)
    hidden_size: int = 32
    renet_from: int = 1
    cell: str = "gru"
    head_channels: int = 16
    slice_rnn: bool = False

    def __post_init__(self) -> None:
        name = "ReSegUNet"
        self.widths = check_common(name, self.num_classes, self.widths, 0.0)
        check_choice(name, "cell", self.cell, CELL_NAMES)
        for key in ("in_channels", "hidden_size", "head_channels"):
            check_positive(name, key, getattr(self, key))
        if not self.widths:
            raise ConfigError(f"The 'widths' parameter of {name} must not be empty.")
        if not 0 <= self.renet_from < len(self.widths):
            raise ConfigError(
                f"The 'renet_from' parameter of {name} must be a level in "
                f"[0, {len(self.widths) - 1}]; got {self.renet_from}."
            )


#: Model name -> its config dataclass (the fields are the model's parameters).
MODEL_SPECS: dict[str, type] = {
    "mlp_classifier": MLPClassifierConfig,
    "mlp_segmenter": MLPSegmenterConfig,
    "recurrent_classifier": RecurrentClassifierConfig,
    "renet_segmenter": ReNetSegmenterConfig,
    "cnn_classifier": CNNClassifierConfig,
    "resnet_classifier": ResNetClassifierConfig,
    "unet": UNetConfig,
    "mixer_classifier": MixerClassifierConfig,
    "mixer_unet": MixerUNetConfig,
    "reseg_unet": ReSegUNetConfig,
}
