"""Exact binomial intervals for a proportion that every resample of a bootstrap agrees on.

A sensitivity of 5 of 5 has the same value on every bootstrap resample, so the percentile
bootstrap's interval is the point [1, 1], a certainty no 5 cases give. For a proportion that is
0 or 1 the interval is then Clopper-Pearson's exact binomial interval (Clopper & Pearson,
Biometrika 26 (1934) 404-413; ``scipy.stats.binomtest(...).proportion_ci(method="exact")``):
its coverage is at least the level for every true rate, where Wilson's dips below it; at
``n`` of ``n`` it is ``[(alpha / 2) ** (1 / n), 1]`` (5 of 5: [0.478, 1]; Wilson's: [0.566, 1]).

The trials are the *patients* holding a case of the rate's denominator (patients with a
positive case, for a sensitivity): a patient's cases are not independent trials, and counting
patients never claims more certainty than the data give (one case per patient: the cases).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: The method string recorded with an exact interval.
EXACT_METHOD = (
    "Clopper-Pearson exact binomial interval on the patients (scipy binomtest), as every "
    "bootstrap resample gave the same value"
)


def exact_proportion_ci(successes: int, trials: int, *, level: float = 0.95) -> dict[str, Any]:
    """Clopper-Pearson interval of ``successes`` of ``trials``.

    Returns
    -------
    dict
        ``estimate``, ``low``, ``high``, ``level``, ``method`` (``"Clopper-Pearson"``),
        ``successes``, ``trials``; NaN bounds when ``trials`` is 0.

    Examples
    --------
    >>> ci = exact_proportion_ci(5, 5)
    >>> round(ci["low"], 4), ci["high"]
    (0.4782, 1.0)
    """
    if not 0 <= successes <= trials:
        raise ValueError(f"Expected 0 <= successes <= trials; got {successes} of {trials}.")
    out: dict[str, Any] = {"level": level, "method": "Clopper-Pearson", "successes": successes,
                           "trials": trials}  # fmt: skip
    if trials == 0:
        return out | {"estimate": float("nan"), "low": float("nan"), "high": float("nan")}
    from scipy.stats import binomtest  # here: scipy costs ~1 s to import

    ci = binomtest(successes, trials).proportion_ci(confidence_level=level, method="exact")
    return out | {"estimate": successes / trials, "low": float(ci.low), "high": float(ci.high)}


def exact_when_unanimous(
    interval: dict[str, Any], groups: Sequence[Any] | np.ndarray, cases: np.ndarray
) -> dict[str, Any]:
    """A bootstrap ``interval`` given Clopper-Pearson bounds where it has none, 0 or 1.

    Every resample agreed, and the figure is 0 or 1.

    Parameters
    ----------
    interval
        One interval dict of :func:`pipeline.metrics.bootstrap_cis`.
    groups
        ``(N,)`` patient key of every case.
    cases
        ``(N,)`` booleans: the cases in the figure's denominator (the positive cases, for a
        sensitivity); their patients are the trials.

    Returns
    -------
    dict
        ``interval`` unchanged when it has bounds, or its figure is strictly between 0 and 1
        (every patient 1 of 2 found: no count of patients to give); else with ``low``,
        ``high``, ``method`` :data:`EXACT_METHOD`, ``trials`` and a ``note`` saying so.
    """
    estimate = interval["estimate"]
    if "note" not in interval or estimate not in (0.0, 1.0):
        return interval
    trials = len(set(np.asarray(groups)[np.asarray(cases, dtype=bool)].tolist()))
    if trials < 2:  # one patient: a point, not an interval, as the bootstrap says
        return interval
    successes = trials if estimate == 1.0 else 0
    exact = exact_proportion_ci(successes, trials, level=interval["level"])
    note = (
        f"every resample gave {estimate:.4g} ({successes} of {trials} patients), so the "
        f"percentile bootstrap has no spread; the interval is Clopper-Pearson's exact one"
    )
    return interval | {
        "low": exact["low"],
        "high": exact["high"],
        "method": EXACT_METHOD,
        "trials": trials,
        "note": note,
    }
