"""Networks only: fully connected and recurrent models, convolutional baselines, a registry.

Every model is built from a small dataclass config (:mod:`models.specs`) and registered by
name::

    from models import build_model
    net = build_model("mlp_segmenter", num_classes=3, patch_size=7)

This package does no file I/O and parses no config files; ``workflows`` does. Its names are
imported lazily, so ``from models.specs import MODEL_SPECS`` stays free of torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "MODELS": "models.registry",
    "build_model": "models.registry",
    "model_spec": "models.registry",
    "MODEL_SPECS": "models.specs",
    "MLPClassifier": "models.mlp",
    "MLPSegmenter": "models.mlp",
    "RecurrentClassifier": "models.recurrent",
    "ReNetSegmenter": "models.recurrent",
    "CNNClassifier": "models.conv",
    "ResNetClassifier": "models.conv",
    "UNet": "models.conv",
    "TrainingLoss": "models.losses",
    "soft_dice_loss": "models.losses",
    "MLPClassifierConfig": "models.specs",
    "MLPSegmenterConfig": "models.specs",
    "RecurrentClassifierConfig": "models.specs",
    "ReNetSegmenterConfig": "models.specs",
    "CNNClassifierConfig": "models.specs",
    "ResNetClassifierConfig": "models.specs",
    "UNetConfig": "models.specs",
    "MixerClassifier": "models.mixer",
    "MixerUNet": "models.mixer",
    "ReSegUNet": "models.reseg",
    "MixerClassifierConfig": "models.specs",
    "MixerUNetConfig": "models.specs",
    "ReSegUNetConfig": "models.specs",
}
#: The one place that fills the registry: every module that registers a model, imported
#: before ``MODELS``, ``build_model`` or ``model_spec`` is handed out.
_MODEL_MODULES = ("models.mlp", "models.recurrent", "models.conv", "models.mixer", "models.reseg")

__all__ = sorted([*_EXPORTS, "GRUClassifier"])


def __getattr__(name: str) -> Any:
    if name == "GRUClassifier":  # an alias: its default cell is a GRU
        name = "RecurrentClassifier"
    if name not in _EXPORTS:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    if _EXPORTS[name] == "models.registry":
        for module in _MODEL_MODULES:
            importlib.import_module(module)
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
