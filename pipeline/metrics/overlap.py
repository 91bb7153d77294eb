"""Dice similarity coefficient and Jaccard index, per class and averaged, with an empty policy.

Both come from the confusion matrix: for class ``c``, ``TP = cm[c, c]``, ``FP`` = rest of
column ``c``, ``FN`` = rest of row ``c``, and

    Dice = 2 TP / (2 TP + FP + FN)       (Dice, Ecology 26 (1945) 297-302)
    Jaccard = TP / (TP + FP + FN)        (Jaccard, New Phytologist 11 (1912) 37-50)

so ``J = D / (2 - D)`` for every class (Taha & Hanbury, BMC Medical Imaging 15:29, 2015).

Empty-mask policy (argument ``empty``): when a class is absent from both the truth and the
prediction, the ratio is 0/0. ``empty="nan"`` (the default) returns NaN for that class and
skips it in every average; ``"one"`` scores it 1.0 (a correct "nothing here"); ``"zero"``
scores it 0.0. When the truth is empty but the prediction is not (or the reverse), the score
is 0 whatever the policy: that is a plain false positive (or false negative).
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np

from pipeline.metrics._arrays import ArrayOrTensor
from pipeline.metrics.confusion import confusion_matrix

Average: TypeAlias = Literal["macro", "micro", "weighted", "none"]
EmptyPolicy: TypeAlias = Literal["nan", "one", "zero"]

_EMPTY_VALUES = {"nan": float("nan"), "one": 1.0, "zero": 0.0}
_AVERAGES = ("macro", "micro", "weighted", "none")


def dice_from_confusion(
    cm: np.ndarray,
    *,
    include_background: bool = True,
    average: Average = "macro",
    empty: EmptyPolicy = "nan",
) -> np.ndarray | float:
    """Dice similarity coefficient from a ``(K, K)`` confusion matrix (rows = truth).

    Parameters
    ----------
    cm
        Counts from :func:`confusion_matrix`.
    include_background
        Whether class 0 is scored and averaged.
    average
        ``"none"``: one value per class (``K`` or ``K - 1``); ``"macro"``: mean of the per-class
        values, NaN skipped (NaN if all are NaN); ``"micro"``: Dice of the counts pooled over
        the classes (with background, equal to the accuracy); ``"weighted"``: mean weighted by
        each class's truth support (classes with no support weigh 0).
    empty
        Value of a class absent from truth and prediction: ``"nan"`` (skipped in averages),
        ``"one"`` or ``"zero"``.

    Returns
    -------
    numpy.ndarray or float
        Per-class float64 values when ``average="none"``, otherwise a float.

    Examples
    --------
    >>> cm = np.array([[4, 1, 0], [1, 2, 0], [0, 0, 0]])
    >>> dice_from_confusion(cm, average="none").round(3)
    array([0.8  , 0.667,   nan])
    >>> dice_from_confusion(cm, average="none", empty="one")[2]
    np.float64(1.0)
    """
    return _overlap(cm, 2, include_background, average, empty)


def jaccard_from_confusion(
    cm: np.ndarray,
    *,
    include_background: bool = True,
    average: Average = "macro",
    empty: EmptyPolicy = "nan",
) -> np.ndarray | float:
    """Jaccard index (intersection over union) from a confusion matrix.

    Same arguments and empty-mask policy as :func:`dice_from_confusion`.

    Examples
    --------
    >>> jaccard_from_confusion(np.array([[4, 1], [1, 2]]), average="none").round(3)
    array([0.667, 0.5  ])
    """
    return _overlap(cm, 1, include_background, average, empty)


def dice_score(
    true: ArrayOrTensor,
    pred: ArrayOrTensor,
    num_classes: int,
    *,
    include_background: bool = True,
    average: Average = "macro",
    empty: EmptyPolicy = "nan",
) -> np.ndarray | float:
    """Dice similarity coefficient of integer label maps, over all their elements pooled.

    For one value per case, call it per case (or use :class:`ConfusionAccumulator` with
    ``per_case=True``); called on a whole batch it gives the dataset-level ("global") Dice.
    See :func:`dice_from_confusion` for the arguments and the empty-mask policy.

    Examples
    --------
    >>> true = np.array([[0, 1, 1], [0, 0, 2]])
    >>> pred = np.array([[0, 1, 0], [0, 2, 2]])
    >>> dice_score(true, pred, 3, include_background=False, average="none").round(3)
    array([0.667, 0.667])
    """
    cm = confusion_matrix(true, pred, num_classes)
    return dice_from_confusion(
        cm, include_background=include_background, average=average, empty=empty
    )


def jaccard_index(
    true: ArrayOrTensor,
    pred: ArrayOrTensor,
    num_classes: int,
    *,
    include_background: bool = True,
    average: Average = "macro",
    empty: EmptyPolicy = "nan",
) -> np.ndarray | float:
    """Jaccard index (IoU) of integer label maps; arguments as :func:`dice_score`.

    Examples
    --------
    >>> float(jaccard_index([0, 1, 1, 1], [0, 1, 1, 0], 2, include_background=False))
    0.6666666666666666
    """
    cm = confusion_matrix(true, pred, num_classes)
    return jaccard_from_confusion(
        cm, include_background=include_background, average=average, empty=empty
    )


def _overlap(
    cm: np.ndarray, tp_weight: int, include_background: bool, average: str, empty: str
) -> np.ndarray | float:
    """``w TP / (w TP + FP + FN)`` per class and averaged (w = 2 Dice, w = 1 Jaccard)."""
    if average not in _AVERAGES:
        raise ValueError(f"The 'average' parameter must be one of {_AVERAGES}; got {average!r}.")
    if empty not in _EMPTY_VALUES:
        raise ValueError(
            f"The 'empty' parameter must be one of {tuple(_EMPTY_VALUES)}; got {empty!r}."
        )
    counts = np.asarray(cm, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"Expected a square (K, K) confusion matrix; got shape {counts.shape}.")
    tp = np.diag(counts)
    fn = counts.sum(axis=1) - tp
    fp = counts.sum(axis=0) - tp
    if not include_background:
        if counts.shape[0] < 2:
            raise ValueError("include_background=False needs num_classes >= 2.")
        tp, fn, fp = tp[1:], fn[1:], fp[1:]
    fill = _EMPTY_VALUES[empty]
    if average == "micro":
        return _safe(tp_weight * tp.sum(), tp_weight * tp.sum() + fp.sum() + fn.sum(), fill)
    den = tp_weight * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(den > 0, tp_weight * tp / np.where(den > 0, den, 1), fill)
    if average == "none":
        return values
    if average == "weighted":
        support = tp + fn
        keep = ~np.isnan(values) & (support > 0)
        # no truth in any scored class: the empty policy only when nothing was predicted
        # either; false positives on an empty truth score 0 (they gave 1.0 with empty="one")
        none_true = fill if fp.sum() == 0 else 0.0
        num, den = float((values[keep] * support[keep]).sum()), float(support[keep].sum())
        return _safe(num, den, none_true)
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


def _safe(num: float, den: float, fill: float) -> float:
    return float(num / den) if den > 0 else fill
