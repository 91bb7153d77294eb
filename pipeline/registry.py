"""Explicit registries that let a config name a stage or a model by ``type:``.

No dotted-path imports and no ``eval``: only what was registered can be built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from pipeline.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> class (or factory) table.

    Examples
    --------
    >>> things: Registry[type] = Registry("thing")
    >>> @things.register("box")
    ... class Box:
    ...     def __init__(self, *, size: int = 1) -> None:
    ...         self.size = size
    >>> things.build({"type": "box", "size": 3}).size
    3
    """

    def __init__(self, kind: str, *, defaults: str | None = None) -> None:
        self.kind = kind
        self._store: dict[str, T] = {}
        self._defaults = defaults  # the module registering the built-in items, imported once

    @property
    def _items(self) -> dict[str, T]:
        """The table, with the built-in items registered first.

        So ``Pipeline.load`` of a saved pipeline works without the caller importing
        ``pipeline.stages`` themselves.
        """
        if self._defaults is not None:
            module, self._defaults = self._defaults, None
            importlib.import_module(module)
        return self._store

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name``; a name can be taken only once."""

        def decorate(obj: T) -> T:
            if name in self._store and self._store[name] is not obj:
                raise ValueError(f"{self.kind} name {name!r} is already registered.")
            self._store[name] = obj
            return obj

        return decorate

    def get(self, name: str) -> T:
        """The object registered as ``name``; a ``ConfigError`` lists the valid choices."""
        try:
            return self._items[name]
        except KeyError:
            choices = ", ".join(sorted(self._items))
            raise ConfigError(
                f"Unknown {self.kind} type {name!r}; choose one of: {choices}."
            ) from None

    def name_of(self, obj: object) -> str:
        """The name under which ``obj`` (or its class) is registered."""
        cls = obj if isinstance(obj, type) else type(obj)
        for name, item in self._items.items():
            if item is cls:
                return name
        raise KeyError(f"{cls.__name__} is not a registered {self.kind}.")

    def build(self, spec: Mapping[str, Any]) -> Any:
        """Build from ``{"type": name, **kwargs}``."""
        if "type" not in spec:
            raise ConfigError(f"A {self.kind} spec needs a 'type' key; got keys {sorted(spec)}.")
        kwargs = {k: v for k, v in spec.items() if k != "type"}
        factory: Any = self.get(str(spec["type"]))
        return factory(**kwargs)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)


#: Every pipeline stage, by the name configs use (``type: z_score``).
STAGES: Registry[type] = Registry("stage", defaults="pipeline.stages")
