"""Argmax ties of an evaluation, said once per run with the count of each fold.

Each fold's scoring and the ensemble's warned on their own: a k-fold run printed k + 1 lines
for the same test cases ("2 of 4 test cases tie ..." per fold, then for the ensemble), which
read as k + 1 problems. The fold and ensemble figures are scored quietly
(``metrics["prediction_ties"]``) and :func:`say_ties` says them in one line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pipeline.metrics._arrays import tie_example

log = logging.getLogger("radpipe")

__all__ = ["say_ties"]


def say_ties(
    task: str, metrics: dict[str, Any], folds: Sequence[dict[str, Any]], n: int
) -> str | None:
    """One warning for the tied top probabilities of the evaluation ``metrics`` (the ensemble
    of the fold models, or the run's one model) and of each fold's ``folds`` metrics, of
    ``n`` test cases (samples); returns it (``None`` when nothing tied). Records
    ``prediction_ties_per_fold`` in ``metrics`` when there are folds.

    Examples
    --------
    >>> m = {"prediction_ties": 1}
    >>> said = say_ties("classification", m, [{"prediction_ties": 2}, {"prediction_ties": 1}], 4)
    >>> said[59:122]
    '(the ensemble of 2 fold models; fold 0: 2 of 4, fold 1: 1 of 4)'
    >>> m["prediction_ties_per_fold"]
    [2, 1]
    """
    per_fold = [int(f.get("prediction_ties") or 0) for f in folds]
    if folds:
        metrics["prediction_ties_per_fold"] = per_fold
    ties = int(metrics.get("prediction_ties") or 0)
    if not ties and not any(per_fold):
        return None
    if task == "classification":
        k = len(metrics.get("class_names") or ()) or 2
        said = (f"{ties} of {n} test cases tie on their top probability ({tie_example(k)})"
                + _where(per_fold, f" of {n}")
                + ": each is called the first of the tied classes")  # fmt: skip
    else:
        samples = int(metrics.get("prediction_ties_samples") or 0)
        names = metrics.get("class_names") or ["background"]
        said = (f"{ties} voxels in {samples} of {n} test samples tie on their top probability"
                + _where(per_fold, " voxels")
                + f": each is called the lower class ({names[0]} first)")  # fmt: skip
    log.warning("%s", said)
    return said


def _where(per_fold: list[int], unit: str) -> str:
    """``" (the ensemble of 2 fold models; fold 0: 2 of 4, fold 1: 1 of 4)"``; empty
    without folds."""
    if not per_fold:
        return ""
    each = ", ".join(f"fold {i}: {t}{unit}" for i, t in enumerate(per_fold))
    return f" (the ensemble of {len(per_fold)} fold models; {each})"
