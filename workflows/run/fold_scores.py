"""A k-fold evaluation's fold figures (each fold model, their spread), and its warnings said
once, naming where they apply.

Each fold model and their ensemble are scored on the same test cases, so a warning about the
cases (``ROC AUC is undefined: only one class is present ...``) came once per fold and once
more for the ensemble, identical lines that named no fold. They are gathered here and said
once each, with the folds (and the ensemble) they apply to.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
#: ``(category, message)`` -> where it was warned (``fold 0``, ..., ``the ensemble``), in order
Gathered = dict[tuple[type[Warning], str], list[str]]


@contextmanager
def gathering(where: str, seen: Gathered | None) -> Iterator[None]:
    """Record the warnings raised inside, under ``where``, instead of showing them (``seen``
    ``None``: a run without folds, whose warnings are shown as they come)."""
    if seen is None:
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        places = seen.setdefault((w.category, str(w.message)), [])
        if where not in places:
            places.append(where)


def each_fold(
    score: Callable[[T], dict[str, Any]], items: list[T], seen: Gathered | None
) -> list[dict[str, Any]]:
    """``score`` of every fold's item, its warnings gathered under ``fold K``; ``[]`` for a
    run without folds (``seen`` ``None``)."""
    if seen is None:
        return []
    out = []
    for k, item in enumerate(items):
        with gathering(f"fold {k}", seen):
            out.append(score(item))
    return out


def say_gathered(seen: Gathered | None) -> list[str]:
    """Warn each gathered message once, naming where it applies; returns the lines.

    Examples
    --------
    >>> seen = {(UserWarning, "AUC is undefined"): ["fold 0", "fold 1", "the ensemble"]}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     say_gathered(seen)
    ['AUC is undefined (fold 0, fold 1 and the ensemble: the same test cases)']
    """
    said = []
    for (category, message), places in (seen or {}).items():
        named = ", ".join(places[:-1]) + " and " + places[-1] if len(places) > 1 else places[0]
        line = f"{message.rstrip('.')} ({named}: the same test cases)"
        warnings.warn(line, category, stacklevel=2)
        said.append(line)
    return said


def fold_operating_point(folds: int) -> dict[str, str]:
    """Where a k-fold run's operating point was chosen (each fold model on its own fold)."""
    applied = (f"the mean probability of the {folds} fold models: the threshold was chosen on "
               "single fold models' predictions, and a mean of models is less spread, so the "
               "test sensitivity at it can differ from the validation one")  # fmt: skip
    return {"chosen_on": "out-of-fold validation predictions", "applied_to": applied}


def add_folds(metrics: dict[str, Any], per_fold: list[dict[str, Any]], evaluated: str) -> None:
    """Each fold model's figures, their spread, and what was evaluated, into ``metrics``."""
    if not per_fold:
        metrics["evaluated"] = f"the run's checkpoint on {evaluated}"
        return
    if "chosen_on" in metrics.get("operating_point", {}):
        metrics["operating_point"] |= fold_operating_point(len(per_fold))
    metrics["folds"] = [m["summary"] for m in per_fold]
    metrics["cross_validation"] = spread([m["summary"] for m in per_fold])
    metrics["evaluated"] = f"ensemble of {len(per_fold)} fold models on {evaluated}"


def spread(summaries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, population std, min and max of each figure over the folds that have it, and
    ``n``, how many do: a figure undefined for a fold (a precision of a fold model that never
    calls the class) is left out, and ``n`` says so (the report's ``folds`` column: ``1 of
    2``). The std of one fold's value is null: a spread of 0 claimed the folds agreed."""
    out = {}
    for key in summaries[0]:
        values = np.array([s.get(key) for s in summaries], dtype=np.float64)
        kept = values[np.isfinite(values)]
        if kept.size:
            std = float(kept.std()) if kept.size > 1 else float("nan")
            out[key] = {"mean": float(kept.mean()), "std": std, "min": float(kept.min()),
                        "max": float(kept.max()), "n": int(kept.size)}  # fmt: skip
    return out
