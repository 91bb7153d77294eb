"""ROC curves and the area under them, from classifier scores.

AUC is computed as the Mann-Whitney U statistic with average ranks for ties, which equals the
trapezoidal area under the empirical ROC curve (Hanley & McNeil, Radiology 143 (1982) 29-36).
Multi-class AUC is one-vs-rest, macro-averaged over the classes (Fawcett 2006, section 10).
"""

from __future__ import annotations

import warnings

import numpy as np

from pipeline.metrics._arrays import (
    ArrayOrTensor,
    average_ranks,
    binary_truth,
    case_labels,
    check_finite_scores,
    positive_scores,
    to_numpy,
)
from pipeline.words import are, counted, word


def roc_curve(
    true: ArrayOrTensor, scores: ArrayOrTensor
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-positive rate, true-positive rate and thresholds of a binary problem.

    Parameters
    ----------
    true
        Binary truth, shape ``(N,)``: 0/1, -1/1 or booleans (1 / True = positive).
    scores
        Score of the positive class, shape ``(N,)`` or ``(N, 1)``; higher means more likely
        positive.

    Returns
    -------
    (fpr, tpr, thresholds)
        One point per distinct score plus the origin (threshold ``inf``), in order of
        decreasing threshold, as in scikit-learn's ``roc_curve(drop_intermediate=False)``.

    Raises
    ------
    ValueError
        If the truth is not 0/1, -1/1 or booleans (1/2 or class names name no positive
        class), a score is not finite, or the scores are not one per truth, ``(N,)`` or
        ``(N, 1)``.
    """
    t = binary_truth(true)
    s = positive_scores(scores, t.size)
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # last index of each distinct score
    tps = np.cumsum(t)[last]
    fps = (last + 1) - tps
    n_pos, n_neg = int(t.sum()), int(t.size - t.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.r_[0.0, tps / n_pos] if n_pos else np.full(last.size + 1, np.nan)
        fpr = np.r_[0.0, fps / n_neg] if n_neg else np.full(last.size + 1, np.nan)
    return fpr, tpr, np.r_[np.inf, s[last]]


def roc_auc_score(
    true: ArrayOrTensor, scores: ArrayOrTensor, *, average: str = "macro"
) -> float | np.ndarray:
    """Area under the ROC curve, binary or one-vs-rest multi-class.

    Parameters
    ----------
    true
        Class indices ``(N,)`` in ``[0, K)``; for a binary problem 0/1, -1/1 or booleans
        (1 / True = positive; any other pair is refused: it names no positive class).
    scores
        ``(N,)`` or ``(N, 1)`` positive-class scores for a binary problem (a sigmoid output
        with its channel axis), or ``(N, K)`` per-class probabilities (``K = 2``: class 1 is
        positive), ranked by :func:`ovr_ranks`, so that probabilities saturated by float32
        rounding keep their order.
    average
        For ``K > 2``: ``"macro"`` (mean over classes) or ``"none"`` (per class). The macro
        mean is NaN when any class has no positive or no negative case, as ``metrics.json``'s
        ``roc_auc_macro`` is null then: a mean over fewer classes would read as the K-class
        figure (scikit-learn raises instead). Pass ``average="none"`` and ``numpy.nanmean``
        to average the defined classes on purpose.

    Returns
    -------
    float or numpy.ndarray
        NaN for a class with no positive or no negative case (AUC is undefined there), and a
        macro mean over such a class (with a :class:`RuntimeWarning` naming the classes).

    Raises
    ------
    ValueError
        If any score is NaN or infinite (the message says how many samples), a binary truth
        is not 0/1, -1/1 or booleans, or a K-class truth holds a value outside ``[0, K)``.

    Examples
    --------
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    t = case_labels(true)
    s = to_numpy(scores).astype(np.float64)
    check_finite_scores(s)
    if s.ndim == 2 and s.shape[1] == 1:
        # one positive-class score per case, not a one-class problem: read as "class 0 vs
        # rest" it gave 1 - AUC (0.11 for 0.89)
        s = s[:, 0]
    elif s.ndim == 2:  # (N, 2): class 1 is positive; K > 2: each class against the rest
        s = ovr_ranks(s)
        s = s[:, 1] if s.shape[1] == 2 else s
    if s.ndim == 1:
        if s.shape[0] != t.shape[0]:
            raise ValueError(f"Expected {t.shape[0]} scores; got {s.shape[0]}.")
        return _binary_auc(binary_truth(t), s)
    if s.ndim != 2 or s.shape[0] != t.shape[0]:
        raise ValueError(f"Expected scores of shape (N,) or (N, K) with N={t.size}; got {s.shape}.")
    _check_classes(t, s.shape[1])
    if average not in ("macro", "none"):
        raise ValueError(f"The 'average' parameter must be 'macro' or 'none'; got {average!r}.")
    per_class = np.array([_binary_auc(t == k, s[:, k]) for k in range(s.shape[1])])
    if average == "none":
        return per_class
    undefined = np.flatnonzero(np.isnan(per_class))
    if undefined.size:
        warnings.warn(
            f"ROC AUC is undefined for {word(undefined.size, 'class')} {undefined.tolist()} (no "
            "positive or no negative case): the macro mean is NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(per_class.mean())


def ovr_ranks(scores: ArrayOrTensor) -> np.ndarray:
    """Per-class scores that rank cases as their class probabilities do: ``(N, K)`` float64.

    For probabilities (every row summing to 1 within 1e-3), column ``c`` holds dense ranks
    (0, 1, ...) of the cases by ``p_c``, exact ties of ``p_c`` kept as ties, except where a
    tie hides an order that the other classes' probabilities still show: a float32 softmax
    rounds a class's probability to exactly 1.0 once its logit leads by about 17, while the
    others' sum (down to 1e-38) still differs. Cases tied at a ``p_c`` above 1/2 (where that
    sum is the finer measure) are therefore ranked by it (the smaller, the higher) where it
    differs by more than its own rounding and by no more than ``p_c``'s (both ``4 K eps``
    relative; eps of float32 when every value is a float32 value, else of float64): rows
    rounded to decimals, which sum to 1 only within 1e-3, differ there by their rounding
    and stay tied. Ranked on the probability alone, a confident false positive tied with every
    confident true positive (torchmetrics #2819). Nothing is rounded away: a probability of
    1e-20 ranks above one of 0, as scikit-learn ranks them (scikit-learn #3864), and tied
    probabilities written as decimals (0.7 in ``[0.1, 0.2, 0.7]`` and in ``[0.3, 0.0,
    0.7]``, whose others' sums differ in the last bit) stay tied. Only the order matters to
    ROC AUC, average precision, DeLong's interval and the curves' points, so ranks serve
    them all. Other scores (logits, one-vs-rest scores) are returned as they are, as
    float64.

    Examples
    --------
    >>> p = np.array([[2e-9, 1.0], [1e-8, 1.0], [1.0, 1e-20], [1.0, 0.0]], dtype=np.float32)
    >>> ovr_ranks(p)[:, 1].tolist()  # saturated at 1.0, and below 1e-16, kept in order
    [3.0, 2.0, 1.0, 0.0]
    """
    s = to_numpy(scores).astype(np.float64)
    k = s.shape[1]
    if not (np.abs(s.sum(axis=1) - 1.0) <= 1e-3).all():
        return s
    # float32 values (a softmax, also once copied to float64) carry float32's rounding
    single = np.array_equal(s.astype(np.float32).astype(np.float64), s)
    eps = float(np.finfo(np.float32 if single else np.float64).eps)
    ranks = np.empty_like(s)
    for c in range(k):
        # the others' sum column by column, not the row sum minus the class: that cancels
        others = s[:, np.arange(k) != c].sum(axis=1)
        order = np.lexsort((-others, s[:, c]))  # by p_c, ties by the others' sum, falling
        p, rest = s[order, c], others[order]
        tolerance = 4 * k * eps * np.maximum(rest[1:], rest[:-1])
        # above 1/2 the others' sum is the finer measure of the same probability, but only
        # within p_c's own rounding: tied p_c of rows that sum to 1 only within 1e-3 (rounded
        # decimals, a float16 softmax) differ in the others' sum by that rounding, no order
        beyond = 4 * k * eps * p[1:]
        finer = (rest[:-1] - rest[1:] > tolerance) & (rest[:-1] - rest[1:] <= beyond)
        step = (p[1:] != p[:-1]) | ((p[1:] > 0.5) & finer)
        ranks[order, c] = np.r_[0, np.cumsum(step)]
    return ranks


def _check_classes(true: np.ndarray, k: int) -> None:
    """Refuse a K-class truth holding a value that is no column of the scores.

    Such a case was scored as a negative of every class.
    """
    numeric = true.dtype.kind in "iubf"
    if not numeric or (true.size and not np.isin(true, np.arange(k)).all()):
        shown = sorted({str(v) for v in np.unique(true)})
        raise ValueError(
            f"Expected class indices in [0, {k}) for scores of {k} columns; got the values "
            f"{shown[:6]}."
        )


def _binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = average_ranks(scores)  # average ranks for ties
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def undefined_auc_reason(true: ArrayOrTensor, class_names: list[str]) -> str:
    """Why ROC AUC is undefined for these truths, naming the classes; ``""`` when defined.

    ROC AUC needs positive and negative cases: for two classes both classes
    (scikit-learn's ``roc_auc_score`` warns ``UndefinedMetricWarning: Only one class is
    present in y_true`` and returns NaN), for ``K > 2`` classes each class one-vs-rest, so
    a class with no case, or with every case, leaves its AUC and the macro mean undefined.

    Examples
    --------
    >>> undefined_auc_reason([1, 1, 1], ["benign", "malignant"])  # doctest: +NORMALIZE_WHITESPACE
    'ROC AUC is undefined: only one class is present in the test cases (class 1, malignant);
    class 0 (benign) has no case'
    """
    t = to_numpy(true).astype(np.int64).ravel()
    k = len(class_names)
    counts = np.bincount(t[(t >= 0) & (t < k)], minlength=k)
    named = [f"{c} ({class_names[c]})" for c in range(k)]
    if k == 2:
        if counts.min() > 0:
            return ""
        present = [f"class {c}, {class_names[c]}" for c in range(2) if counts[c]]
        absent = [f"class {named[c]}" for c in range(2) if not counts[c]]
        return (
            "ROC AUC is undefined: only one class is present in the test cases "
            f"({'; '.join(present) or 'none'}); {' and '.join(absent)} has no case"
        )
    none = [named[c] for c in range(k) if counts[c] == 0]
    every = [named[c] for c in range(k) if counts[c] == t.size and t.size]
    why = [_named(none, are(len(none), "has", "have") + " no case")] if none else []
    why += [_named(every, are(len(every)) + " every case")] if every else []
    if not why:
        return ""
    return (
        f"ROC AUC (one-vs-rest) is undefined for {counted(len(none) + len(every), 'class')}: "
        f"{'; '.join(why)} in the test cases, so roc_auc_macro is null"
    )


def _named(classes: list[str], said: str) -> str:
    """``class 2 (c) has no case``, ``classes 1 (b), 2 (c) have no case``."""
    return f"{word(len(classes), 'class')} {', '.join(classes)} {said}"
