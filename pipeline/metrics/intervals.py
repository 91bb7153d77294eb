"""Confidence intervals: the bootstrap over patients, and DeLong's interval for a ROC AUC.

Cases of one patient are not independent (slices of one volume, volumes of one patient), so
the bootstrap resamples *patients* with replacement and keeps all of a drawn patient's cases
together (the cluster bootstrap; Field & Welsh, JRSS-B 69 (2007) 369-390). The interval is the
percentile interval of the statistic over the resamples (Efron & Tibshirani, "An Introduction
to the Bootstrap", 1993, ch. 13). A resample on which the statistic is undefined (an AUC with
one class only) is left out and counted.

DeLong's interval uses the variance of the Mann-Whitney AUC from its structural components
(DeLong, DeLong & Clarke-Pearson, Biometrics 44 (1988) 837-845), computed with midranks as
in Sun & Xu, IEEE Signal Processing Letters 21 (2014) 1389-1393.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from pipeline.metrics._arrays import (
    ArrayOrTensor,
    average_ranks,
    binary_truth,
    positive_scores,
)

#: The method string recorded with every bootstrap interval.
BOOTSTRAP_METHOD = "percentile bootstrap over patients (cases of a patient resampled together)"


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    groups: Sequence[Any] | np.ndarray,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Percentile bootstrap interval of ``statistic``, resampling groups (patients).

    Parameters
    ----------
    statistic
        Takes an int64 array of case indices (with repeats) and returns the figure computed
        on those cases; NaN when undefined on them.
    groups
        ``(N,)`` group key (patient key) of every case; cases of one group are drawn together.
    n_resamples
        Bootstrap resamples (>= 1).
    seed
        Seed of the ``numpy.random.Generator`` drawing the resamples.
    level
        Confidence level in (0, 1).

    Returns
    -------
    dict
        ``estimate`` (on all cases), ``low``, ``high`` (NaN when fewer than 2 resamples
        gave a finite value, or all cases are of one group), ``level``, ``method``,
        ``n_resamples``, ``n_valid`` (resamples with a finite statistic), ``n_groups``,
        ``seed``; ``note`` why there are no bounds (one group, or every resample alike),
        ``caution`` when there are bounds from fewer than 10 groups (too narrow).

    Raises
    ------
    ValueError
        If there are no cases, or a parameter is out of range.

    Examples
    --------
    >>> values = np.array([0.5, 1.0, 0.5, 1.0])
    >>> ci = bootstrap_ci(lambda idx: float(values[idx].mean()), ["a", "a", "b", "c"])
    >>> ci["estimate"], ci["n_groups"], ci["low"] <= ci["estimate"] <= ci["high"]
    (0.75, 3, True)
    """
    return bootstrap_cis(
        lambda idx: {"value": statistic(idx)}, groups, n_resamples=n_resamples, seed=seed,
        level=level,
    )["value"]  # fmt: skip


def bootstrap_cis(
    statistic: Callable[[np.ndarray], Mapping[str, float]],
    groups: Sequence[Any] | np.ndarray,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, dict[str, Any]]:
    """:func:`bootstrap_ci` for several figures at once, on the same resamples.

    ``statistic`` returns ``{name: value}``; the result maps each name to its interval dict.
    """
    if n_resamples < 1:
        raise ValueError(f"The 'n_resamples' parameter must be >= 1; got {n_resamples}.")
    _check_level(level)
    keys = np.asarray(groups)
    if keys.size == 0:
        raise ValueError("Cannot bootstrap an empty set of cases.")
    _, inverse = np.unique(keys, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(int(inverse.max()) + 1)]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(members), size=(n_resamples, len(members)))
    estimate = dict(statistic(np.arange(keys.size)))
    values = np.full((n_resamples, len(estimate)), np.nan)
    for i, draw in enumerate(draws):
        result = statistic(np.concatenate([members[g] for g in draw]))
        values[i] = [result[name] for name in estimate]
    alpha = (1 - level) / 2
    out = {}
    for j, name in enumerate(estimate):
        finite = values[np.isfinite(values[:, j]), j]
        # one patient: every resample repeats it, so the spread says nothing (a point, not
        # an interval)
        enough = finite.size >= 2 and len(members) >= 2
        # every resample alike (5 of 5 positives found, every Dice 1.0): the percentile
        # interval is the point itself, [1, 1], which no sample of 5 supports
        # (within rounding: a mean of equal Dice values differs in the last bit by size)
        same = enough and bool(np.ptp(finite) <= 1e-12 * max(1.0, float(np.abs(finite).max())))
        out[name] = {
            "estimate": float(estimate[name]),
            "low": float(np.quantile(finite, alpha)) if enough and not same else float("nan"),
            "high": float(np.quantile(finite, 1 - alpha)) if enough and not same else float("nan"),
            "level": level,
            "method": BOOTSTRAP_METHOD,
            "n_resamples": n_resamples,
            "n_valid": int(finite.size),
            "n_groups": len(members),
            "seed": seed,
        } | _said(len(members), same, float(finite[0]) if same else 0.0)
    return out


def _said(groups: int, same: bool, value: float) -> dict[str, str]:
    """Why there is no interval (``note``), or why the one given is too narrow.

    ``caution``: fewer than :data:`FEW_PATIENTS` patients; ``{}`` when neither applies.
    """
    if same:
        return {"note": _SAME.format(value=value)}
    if groups < 2:
        return {"note": _ONE}
    return {"caution": _FEW.format(n=groups)} if groups < FEW_PATIENTS else {}


#: Fewer patients than this: a percentile bootstrap interval is given with a ``caution``.
FEW_PATIENTS = 10
_ONE = (
    "no interval: every case is of one patient, so every resample repeats the same cases "
    "(a point, not an interval)"
)
_FEW = (
    "only {n} patients: a percentile bootstrap over fewer than 10 is too narrow (it can only "
    "reshuffle the few values seen, and covers less often than its level says); read it as "
    "a rough range"
)


_SAME = (
    "no interval: every resample gave {value:.4g} (every case agrees, e.g. all positives "
    "found), and a percentile bootstrap cannot bound a figure it never sees vary"
)


def delong_roc_ci(
    true: ArrayOrTensor,
    scores: ArrayOrTensor,
    *,
    level: float = 0.95,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> dict[str, Any]:
    """Binary ROC AUC with DeLong's standard error and normal-approximation interval.

    Parameters
    ----------
    true
        ``(N,)`` binary truth: 0/1, -1/1 or booleans (1 / True = positive).
    scores
        ``(N,)`` finite positive-class scores.
    level
        Confidence level in (0, 1).
    groups
        ``(N,)`` patient key of every case: when a patient has several cases, a ``note``
        says the variance took them as independent (it is then too small; the patient
        bootstrap is not).

    Returns
    -------
    dict
        ``estimate`` (the AUC), ``se``, ``low``, ``high`` (clipped to [0, 1]), ``level``,
        ``method``, ``n_positive``, ``n_negative``. NaN values when a class is missing, or
        ``se`` is NaN with fewer than 2 cases of a class.

    Raises
    ------
    ValueError
        If a score is not finite, the scores are not ``(N,)`` or ``(N, 1)``, one per truth,
        the truth is not 0/1, -1/1 or booleans, or ``level`` is not in (0, 1).

    Examples
    --------
    >>> ci = delong_roc_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> ci["estimate"], round(ci["se"], 4)
    (0.75, 0.3536)
    """
    _check_level(level)
    positive = binary_truth(true)
    out = _delong(positive, positive_scores(scores, positive.size), level)
    n_groups = positive.size if groups is None else len(set(np.asarray(groups).tolist()))
    if n_groups < positive.size and np.isfinite(out["low"]):
        out["note"] = (
            f"cases taken as independent: {positive.size} cases of {n_groups} patients, so "
            "this interval is too narrow when a patient's cases agree; the percentile "
            "bootstrap over patients is not"
        )
    return out


def _delong(positive: np.ndarray, s: np.ndarray, level: float) -> dict[str, Any]:
    """DeLong's interval of positive-class ``s`` against the truth ``positive``."""
    x, y = s[positive], s[~positive]
    m, n = x.size, y.size
    out: dict[str, Any] = {
        "level": level,
        "method": "DeLong et al. 1988 variance, normal approximation",
        "n_positive": int(m),
        "n_negative": int(n),
    }
    if m == 0 or n == 0:
        return out | {k: float("nan") for k in ("estimate", "se", "low", "high")}
    tz = average_ranks(np.concatenate([x, y]))  # midranks of the pooled scores
    v10 = (tz[:m] - average_ranks(x)) / n  # per positive: fraction of negatives it outranks
    v01 = 1.0 - (tz[m:] - average_ranks(y)) / m  # per negative: fraction of positives above it
    auc = float(v10.mean())
    if m < 2 or n < 2:
        return out | {
            "estimate": auc,
            "se": float("nan"),
            "low": float("nan"),
            "high": float("nan"),
        }
    se = float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))
    if se == 0:  # no positive and negative interleave (AUC 0 or 1): [1, 1] from 2 + 2 cases
        return out | {
            "estimate": auc,
            "se": se,
            "low": float("nan"),
            "high": float("nan"),
            "note": "no interval: DeLong's variance is 0 when the classes' scores do not "
            "overlap (AUC 0 or 1), so its normal interval would be the point itself",
        }
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    return out | {
        "estimate": auc,
        "se": se,
        "low": max(0.0, auc - z * se),
        "high": min(1.0, auc + z * se),
    }


def _check_level(level: float) -> None:
    """Raise ``ValueError`` unless ``level`` is in (0, 1) (DeLong's took 0 and 95)."""
    if not 0 < level < 1:
        raise ValueError(f"The 'level' parameter must be in (0, 1); got {level}.")
