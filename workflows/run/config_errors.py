"""A config validation error in words: the key path, and what is wrong with the value.

Used by :func:`workflows.run.config.validate_config`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from pipeline.words import did_you_mean

__all__ = ["describe"]

#: A number in exponent form that YAML 1.1 (PyYAML) reads as text: without a dot or without
#: the exponent's sign (``1e3``, ``1e+3``, ``1.0e3``; ``1.0e+3`` is a float).
_EXPONENT = re.compile(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+")


def describe(error: Any, root: type[BaseModel]) -> str:
    """One pydantic error (of ``root``'s validation) as ``key.path: what is wrong``.

    An unknown key lists the valid keys at its level; a whole number written in exponent form
    (``bootstrap: 1e3``) says why it is text, which pydantic alone reported as "unable to parse
    string as an integer" (PyYAML follows YAML 1.1, whose floats need a dot and a signed
    exponent: ``1.0e+3``).
    """
    loc = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        parent = _model_at(root, error["loc"][:-1])
        keys = list(parent.model_fields) if parent else []
        near = did_you_mean(error["loc"][-1], keys)  # the one meant, lost among 30 (2026-12-03)
        return f"{loc}: unknown key; valid keys here: {', '.join(keys) or '-'}{near}"
    if error["type"] == "missing":
        return f"{loc}: required key is missing"
    value = error.get("input")
    if error["type"] == "int_parsing" and isinstance(value, str) and _EXPONENT.fullmatch(value):
        return (f"{loc}: {value!r} is text to YAML, not a number (YAML 1.1 reads exponent "
                "form only with a dot and a signed exponent, 1.0e+3), and a whole number is "
                f"expected here: write it out ({_written_out(value)})")  # fmt: skip
    msg = str(error["msg"]).removeprefix("Value error, ")
    if not loc or (msg.startswith(f"{loc}.") and ": " in msg):  # a rule naming its own keys
        return msg
    if str(error["type"]).endswith(("_parsing", "_type")) and isinstance(
        value, str | int | float | bool | None
    ):  # the value given, as a bad parameter's message has it ("epochs: four" said nothing)
        return f"{loc}: {msg}; got {value!r}"
    return f"{loc}: {msg}"


def _written_out(value: str) -> str:
    number = float(value)
    return f"{int(number)}" if number.is_integer() and abs(number) < 1e15 else "a whole number"


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model = root
    for part in loc:
        field = model.model_fields.get(str(part))
        ann = field.annotation if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model
