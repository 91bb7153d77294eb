"""Parameter checks for stage constructors: a bad value fails when the stage is made (when a
run's config is validated), naming the stage and the parameter, not on the first image."""

from __future__ import annotations

import math
import numbers
from typing import Any


def check_number(
    stage: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    strict: bool = False,
    integer: bool = False,
) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number ``>= low`` (``> low`` with
    ``strict``), and an ``int`` with ``integer`` (a size or count: ``2.5`` and ``2.0`` are
    refused, as the stage would pass them on as they are). ``bool`` is no number here.

    Examples
    --------
    >>> check_number("FitDepth", "depth", 2.5, low=1, integer=True)
    Traceback (most recent call last):
    ...
    ValueError: The 'depth' parameter of FitDepth must be a whole number >= 1; got 2.5.
    """
    kind = "a whole number" if integer else "a number"
    bound = "" if low == -math.inf else f" {'>' if strict else '>='} {low:g}"
    wanted = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, wanted) and not isinstance(value, bool)
    if ok:
        number = float(value)
        ok = math.isfinite(number) and (number > low if strict else number >= low)
    if not ok:
        raise ValueError(f"The '{name}' parameter of {stage} must be {kind}{bound}; got {value!r}.")


def check_flag(stage: str, name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is a ``bool`` (a YAML ``'false'`` in quotes, a
    string, was truthy: the opposite of what it says).

    Examples
    --------
    >>> check_flag("ZScore", "channel_wise", "false")
    Traceback (most recent call last):
    ...
    ValueError: The 'channel_wise' parameter of ZScore must be true or false; got 'false'.
    """
    if not isinstance(value, bool):
        raise ValueError(f"The '{name}' parameter of {stage} must be true or false; got {value!r}.")
