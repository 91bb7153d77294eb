"""Parameter checks and draws shared by the random stages (``augment``, ``augment_intensity``).

A range parameter is ``(low, high)``, or a scalar ``v`` meaning ``(around - v, around + v)``;
every draw is ``numpy.random.Generator.uniform`` (a half-open ``[low, high)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SEED_MAX = 2**31 - 1  # seeds of per-sample arrays (noise, elastic fields) lie in [0, SEED_MAX)


def check_p(stage: str, p: float) -> None:
    """Raise ``ValueError`` unless ``0 <= p <= 1``."""
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"The 'p' parameter of {stage} must be a float in [0, 1]; got {p}.")


def param_range(
    stage: str, name: str, value: Sequence[float] | float, around: float
) -> list[float]:
    """``[low, high]``; a scalar ``v`` means ``[around - v, around + v]``."""
    if isinstance(value, (int, float)):
        return [around - float(value), around + float(value)]
    out = [float(v) for v in value]
    if len(out) != 2 or out[0] > out[1]:
        raise ValueError(f"The '{name}' parameter of {stage} must be (low, high); got {value!r}.")
    return out


def draw_uniform(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    """One draw from ``[bounds[0], bounds[1])``, as a Python float (JSON-friendly)."""
    return float(rng.uniform(bounds[0], bounds[1]))
