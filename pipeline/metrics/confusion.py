"""Confusion matrices in one pass over the labels, and the rates derived from them.

The count for every (truth, prediction) pair comes from a single ``bincount`` of
``true * K + pred``, computed in small reused chunks in the narrowest integer type that holds
``K * K`` codes (uint8 up to 16 classes), so a 256^3 volume costs little more than one read
of it. Dice, Jaccard, sensitivity and the rest are then arithmetic on a ``(K, K)`` matrix.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from pipeline.metrics._arrays import (
    ArrayOrTensor,
    as_labels,
    check_label_range,
    check_num_classes,
)

#: Elements per chunk: small enough to stay in cache, large enough to amortise the loop.
_CHUNK = 1 << 16


def confusion_matrix(true: ArrayOrTensor, pred: ArrayOrTensor, num_classes: int) -> np.ndarray:
    """Count (truth, prediction) pairs: ``cm[i, j]`` = elements of class ``i`` predicted ``j``.

    Works for classification (one label per case) and per-pixel segmentation alike: the
    inputs are flattened, so any shape works as long as both have the same one.

    Parameters
    ----------
    true, pred
        Integer class indices in ``[0, num_classes)`` (any integer dtype or bool), as numpy
        arrays, torch tensors or sequences, of the same shape.
    num_classes
        ``K``, the number of classes, background included.

    Returns
    -------
    numpy.ndarray
        ``(K, K)`` int64 counts; rows are the truth, columns the prediction (the convention of
        scikit-learn's ``confusion_matrix``).

    Raises
    ------
    ValueError
        If the shapes differ, the dtype is not integer, or a value is outside ``[0, K)``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], num_classes=3)
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    check_num_classes(num_classes)
    t = as_labels(true, num_classes, "true")
    p = as_labels(pred, num_classes, "pred")
    if t.shape != p.shape:
        raise ValueError(
            f"Expected 'true' and 'pred' of the same shape; got {t.shape} and {p.shape}."
        )
    k = int(num_classes)
    _refuse_one_hot(t, p, k)
    counts = _pair_counts(t.ravel(), p.ravel(), k, k * k)
    return counts.reshape(k, k)


def confusion_matrices(true: ArrayOrTensor, pred: ArrayOrTensor, num_classes: int) -> np.ndarray:
    """One confusion matrix per case of a batch, in one pass: ``(B, K, K)`` int64.

    Parameters
    ----------
    true, pred
        Integer class indices of shape ``(B, ...)``; axis 0 indexes the cases.
    num_classes
        ``K``, background included.

    Examples
    --------
    >>> confusion_matrices([[0, 1], [1, 1]], [[0, 0], [1, 1]], num_classes=2)[:, 1, 1]
    array([0, 2])
    """
    check_num_classes(num_classes)
    t = as_labels(true, num_classes, "true")
    p = as_labels(pred, num_classes, "pred")
    if t.shape != p.shape or t.ndim < 1:
        raise ValueError(
            f"Expected 'true' and 'pred' of the same shape (B, ...); got {t.shape} and {p.shape}."
        )
    k = int(num_classes)
    _refuse_one_hot(t, p, k)
    batch = t.shape[0]
    out = np.empty((batch, k, k), dtype=np.int64)
    for i in range(batch):  # per-case counts; each case is still one chunked bincount
        out[i] = _pair_counts(t[i].ravel(), p[i].ravel(), k, k * k).reshape(k, k)
    return out


#: Positions a one-hot reading needs before it is refused (MONAI's masks have thousands).
_ONE_HOT_MIN = 8


def _refuse_one_hot(t: np.ndarray, p: np.ndarray, k: int) -> None:
    """Refuse one-hot ``(..., K, ...)`` masks given for label maps (MONAI's metrics' input).

    Their 0/1 values are valid indices of ``K > 2`` classes, so every channel's ones were
    counted as class 1 (the background channel's too) and classes 2.. as absent: a Dice of
    the channels pooled, without a word. Refused when both hold only 0 and 1 and share an
    axis of size ``K`` along which every position has exactly one 1, at ``_ONE_HOT_MIN``
    positions or more beside a channel axis: a few label values can be both (four one-pixel
    cases labelled 1, 0, 0, 0 of 4 classes were refused as a one-hot pixel).
    """
    axes = [a for a in range(t.ndim) if t.shape[a] == k]  # before any pass over the values
    if k <= 2 or not axes or t.ndim < 2 or t.size < k * _ONE_HOT_MIN:
        return
    if t.max() > 1 or p.max() > 1:
        return
    for axis in axes:
        if (t.sum(axis=axis) == 1).all() and (p.sum(axis=axis) == 1).all():
            raise ValueError(
                f"Expected label maps of class indices; 'true' and 'pred' look one-hot along "
                f"axis {axis} (size {k}, exactly one 1 at every position). Pass "
                f"`argmax(axis={axis})` of each (MONAI's metrics take one-hot masks; these "
                "take the indices)."
            )


def _pair_counts(t: np.ndarray, p: np.ndarray, k: int, bins: int) -> np.ndarray:
    """``bincount(t * k + p, minlength=k*k)`` in cache-sized chunks, checking the range."""
    code_type = np.uint8 if bins <= 256 else np.uint16 if bins <= 65536 else np.int64
    counts = np.zeros(bins, dtype=np.int64)
    n = t.size
    buffer = np.empty(min(_CHUNK, max(n, 1)), dtype=code_type)
    other = np.empty_like(buffer)
    for start in range(0, n, _CHUNK):
        tc, pc = t[start : start + _CHUNK], p[start : start + _CHUNK]
        check_label_range(tc, k, "true")
        check_label_range(pc, k, "pred")
        codes, tmp = buffer[: tc.size], other[: tc.size]
        # widen first: a uint8 label times k was computed in uint8 (class 16 of 17: 272 -> 16)
        np.copyto(codes, tc, casting="unsafe")
        np.multiply(codes, k, out=codes)
        np.copyto(tmp, pc, casting="unsafe")
        np.add(codes, tmp, out=codes)
        counts += np.bincount(codes, minlength=bins)
    return counts


def normalize_confusion(cm: np.ndarray, by: Literal["true", "pred", "all"] = "true") -> np.ndarray:
    """Normalise a confusion matrix by row (``"true"``), column (``"pred"``) or total.

    With ``by="true"`` each row sums to 1 and the diagonal holds the per-class sensitivity;
    with ``by="pred"`` each column sums to 1 and the diagonal holds the precision. A row or
    column with no elements becomes NaN (scikit-learn writes 0 there; NaN says "undefined").

    Examples
    --------
    >>> normalize_confusion(np.array([[3, 1], [0, 0]]), by="true")
    array([[0.75, 0.25],
           [ nan,  nan]])
    """
    counts = np.asarray(cm, dtype=np.float64)
    if by == "true":
        totals = counts.sum(axis=1, keepdims=True)
    elif by == "pred":
        totals = counts.sum(axis=0, keepdims=True)
    elif by == "all":
        totals = np.asarray(counts.sum())
    else:
        raise ValueError(f"The 'by' parameter must be 'true', 'pred' or 'all'; got {by!r}.")
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / totals


def rates_from_confusion(cm: np.ndarray) -> dict[str, np.ndarray | float]:
    """Per-class and summary rates derived from a ``(K, K)`` confusion matrix (rows = truth).

    Each class is scored one-vs-rest: ``TP = cm[c, c]``, ``FN`` = rest of row ``c``,
    ``FP`` = rest of column ``c``, ``TN`` = everything else. A per-class rate whose
    denominator is zero is NaN (undefined). The ``*_macro`` means are over the classes that
    occur in the truth or in the predictions, an undefined rate counting 0 there (scikit-learn's
    and torchmetrics' ``zero_division=0``): the precision of a class the model never predicts
    although it is in the truth, or the sensitivity of a class it predicts that is not, is a
    failure, and skipping it made a model that ignores a class score higher (precision_macro
    0.5 for scikit-learn's 0.33). A class in neither is left out, and so is the specificity
    and NPV of a class that every case is of (no negative case: 0/0, nothing to fail; it
    counted 0, ``specificity_macro`` 0 for a perfect model); :func:`macro_classes` says
    which classes each mean holds.

    Raises
    ------
    ValueError
        ``cm`` is not square, or holds anything but counts (whole numbers >= 0): a
        normalised or negative matrix.

    Returns
    -------
    dict
        Per class (arrays of length K): ``support`` (TP + FN), ``sensitivity``
        (= recall, TP / (TP + FN)), ``specificity`` (TN / (TN + FP)), ``precision``
        (TP / (TP + FP)), ``npv`` (TN / (TN + FN)), ``f1`` (2TP / (2TP + FP + FN)).
        Floats: ``accuracy`` (trace / total), ``balanced_accuracy`` (mean sensitivity over the
        classes present in the truth, as in scikit-learn), and ``<rate>_macro`` for each rate
        (over the classes of :func:`macro_classes`, undefined rates as 0; NaN when none).

    Notes
    -----
    Definitions follow Fawcett, "An introduction to ROC analysis", Pattern Recognition
    Letters 27 (2006) 861-874, and Brodersen et al., "The balanced accuracy and its posterior
    distribution", ICPR 2010.

    Examples
    --------
    >>> r = rates_from_confusion(np.array([[5, 1], [2, 2]]))
    >>> float(r["accuracy"]), r["sensitivity"].tolist(), float(r["balanced_accuracy"])
    (0.7, [0.8333333333333334, 0.5], 0.6666666666666667)
    """
    counts = np.asarray(cm, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"Expected a square (K, K) confusion matrix; got shape {counts.shape}.")
    bad = ~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts))
    if bad.any():
        shown = counts[bad][0]
        raise ValueError(
            f"Expected a confusion matrix of counts (whole numbers >= 0); got {shown:g} in "
            f"{int(bad.sum())} of {bad.size} cells. A normalised matrix weighs each row "
            "alike: pass the counts (its support was cut to whole numbers, its specificity "
            "mixed rows of different weights)."
        )
    tp = np.diag(counts)
    fn = counts.sum(axis=1) - tp
    fp = counts.sum(axis=0) - tp
    total = counts.sum()
    tn = total - tp - fn - fp
    per_class = {
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "precision": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
    out: dict[str, np.ndarray | float] = {"support": (tp + fn).astype(np.int64)}
    out.update(per_class)
    out["accuracy"] = float(_ratio(np.asarray(tp.sum()), np.asarray(total)))
    out["balanced_accuracy"] = _nanmean(per_class["sensitivity"])
    for name, counted in macro_classes(counts).items():
        values = np.nan_to_num(per_class[name][counted], nan=0.0)
        out[f"{name}_macro"] = float(values.mean()) if values.size else float("nan")
    return out


def macro_classes(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Which classes each ``*_macro`` rate of :func:`rates_from_confusion` averages.

    ``(K,)`` booleans per rate (``sensitivity``, ``specificity``, ``precision``, ``npv``,
    ``f1``): the classes that occur in the truth or the predictions, except that a class
    whose specificity or NPV is undefined while the truth holds no case of another class
    (every case is of that class: no negative to clear, 0/0) is left out, as a class in
    neither is. Its 0 would say the model failed where nothing could be failed: a perfect
    model of a test set of one class had ``specificity_macro`` 0. An undefined rate of a
    counted class (the precision of a class in the truth never predicted, an NPV where every
    case was called the class though others are in the truth) counts 0, as
    ``zero_division=0``.

    Examples
    --------
    >>> macro_classes(np.array([[0, 0], [0, 4]]))["specificity"].tolist()
    [False, False]
    >>> macro_classes(np.array([[0, 0], [1, 3]]))["specificity"].tolist()
    [True, False]
    """
    counts = np.asarray(cm, dtype=np.float64)
    tp = np.diag(counts)
    fn = counts.sum(axis=1) - tp
    fp = counts.sum(axis=0) - tp
    tn = counts.sum() - tp - fn - fp
    occurs = (tp + fn + fp) > 0  # in the truth or in the predictions
    negatives = (tn + fp) > 0  # the truth holds a case of another class
    return {
        "sensitivity": occurs,
        "specificity": occurs & negatives,
        "precision": occurs,
        "npv": occurs & (negatives | ((tn + fn) > 0)),
        "f1": occurs,
    }


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")
