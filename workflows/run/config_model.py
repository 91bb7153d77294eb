"""The base of the run configuration's models: unknown keys refused, and a yes/no value
refused where a number is expected.

YAML 1.1 (PyYAML) reads ``true``/``false``, ``yes``/``no`` and ``on``/``off`` as booleans, and
pydantic's lax mode took a boolean as the number 1 or 0: ``epochs: yes`` trained 1 epoch,
``split.test: false`` held out no test patients, ``seed: true`` was seed 1, all without a word.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _types_in(annotation: Any) -> set[Any]:
    """Every type named in ``annotation`` (``int | None``, ``list[float]``, ``dict[int, int]``)."""
    if get_origin(annotation) in (Union, types.UnionType) or get_args(annotation):
        return {annotation, *(t for a in get_args(annotation) for t in _types_in(a))}
    return {annotation}


def _holds_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, dict):
        return any(_holds_bool(k) or _holds_bool(v) for k, v in value.items())
    return isinstance(value, list | tuple) and any(map(_holds_bool, value))


def yes_no_refusal(value: Any, annotation: Any) -> str | None:
    """Why ``value`` is refused for a parameter of type ``annotation``: it is or holds a
    yes/no value where numbers and no yes/no are expected; ``None`` when it is not."""
    named = _types_in(annotation)
    if not _holds_bool(value) or bool in named or not named & {int, float}:
        return None
    verb = "is" if isinstance(value, bool) else "holds"
    return (f"{value!r} {verb} a yes/no value to YAML (true/false, yes/no, on/off), not a "
            "number, and a number is expected here: write the number (1, 0, 0.25...)")  # fmt: skip


class Strict(BaseModel):
    """A config section: unknown keys and yes/no values for numbers are errors."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_yes_no_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        why = yes_no_refusal(value, cls.model_fields[info.field_name].annotation)
        if why:
            raise ValueError(why)
        return value
