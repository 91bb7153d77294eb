"""The model registry: every network is built by name from a small dataclass config.

A model class declares its config dataclass as ``Config`` and takes one instance of it, so a
checkpoint that stores ``model_spec(model)`` (plain JSON-friendly types) can rebuild the same
network later without pickling anything.

This module imports no model module (they import it, to register themselves): the table is
filled by the explicit list in :mod:`models` (``models/__init__.py``), so take ``MODELS``,
``build_model`` and ``model_spec`` from there: ``from models import build_model, MODELS``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from pipeline.errors import ConfigError
from pipeline.registry import Registry
from pipeline.words import word

#: Every network, by the name configs use (``model: {type: mlp_segmenter, ...}``).
MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


def register_model(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Register a model class whose ``Config`` dataclass holds its parameters.

    The registered factory takes the config's fields as keyword arguments, so
    ``MODELS.build({"type": name, **fields})`` works, and unknown keys are a ``ConfigError``
    that lists the valid ones.
    """

    def decorate(cls: type[nn.Module]) -> type[nn.Module]:
        config_cls = cls.Config  # type: ignore[attr-defined]
        valid = [f.name for f in dataclasses.fields(config_cls)]

        def factory(**kwargs: Any) -> nn.Module:
            unknown = sorted(set(kwargs) - set(valid))
            if unknown:
                raise ConfigError(
                    f"Unknown {word(len(unknown), 'parameter')} {unknown} for model {name!r}; "
                    f"valid parameters: {', '.join(valid)}."
                )
            required = [f.name for f in dataclasses.fields(config_cls)
                        if f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING]  # fmt: skip
            missing = [k for k in required if k not in kwargs]
            if missing:  # was the dataclass's "__init__() missing 1 required positional ..."
                raise ConfigError(
                    f"Model {name!r} needs {word(len(missing), 'parameter')} "
                    f"{', '.join(missing)}, not given; valid parameters: {', '.join(valid)}."
                )
            try:
                config = config_cls(**kwargs)
            except TypeError as err:  # a check of the config's own
                raise ConfigError(f"Model {name!r}: {err}.") from None
            return cls(config)

        factory.__name__ = f"build_{name}"
        factory.__doc__ = cls.__doc__
        factory.model_class = cls  # type: ignore[attr-defined]
        MODELS.register(name)(factory)
        cls.registry_name = name  # type: ignore[attr-defined]
        return cls

    return decorate


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the model registered as ``name`` from its config fields.

    Examples
    --------
    >>> net = build_model("mlp_classifier", in_features=16, num_classes=2, hidden=(8,))
    >>> type(net).__name__
    'MLPClassifier'
    """
    model: nn.Module = MODELS.build({"type": name, **kwargs})
    return model


def model_spec(model: nn.Module) -> dict[str, Any]:
    """``{"type": name, **config}`` with plain types only; ``MODELS.build`` inverts it."""
    name = getattr(model, "registry_name", None)
    config = getattr(model, "config", None)
    if name is None or config is None or not dataclasses.is_dataclass(config):
        raise ConfigError(f"{type(model).__name__} is not a registered radpipe model.")
    return {"type": name, **_plain(dataclasses.asdict(config))}  # type: ignore[arg-type]


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so that the spec is JSON/YAML/weights_only friendly."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
