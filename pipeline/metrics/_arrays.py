"""Turning label and score inputs (numpy arrays, torch tensors, sequences) into numpy arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from pipeline.errors import RadpipeError

if TYPE_CHECKING:
    import torch

#: Anything the metrics accept as labels or scores: a numpy array, a torch tensor (any device),
#: or a nested sequence of numbers.
ArrayOrTensor: TypeAlias = "np.ndarray | torch.Tensor | Any"


def to_numpy(values: ArrayOrTensor) -> np.ndarray:
    """Return ``values`` as a numpy array, without a copy where possible.

    Torch tensors are detached and moved to the CPU; torch is never imported here, so the
    metrics stay cheap to import.
    """
    if hasattr(values, "detach") and hasattr(values, "cpu"):
        return np.asarray(values.detach().cpu().numpy())
    return np.asarray(values)


def as_labels(values: ArrayOrTensor, num_classes: int, name: str) -> np.ndarray:
    """Return integer class indices as a numpy array, checking dtype (not range).

    Raises
    ------
    ValueError
        If the values are not integers or booleans.
    """
    array = to_numpy(values)
    if array.dtype == bool:
        array = array.view(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"Expected '{name}' to hold integer class indices in [0, {num_classes}); "
            f"got dtype {array.dtype}. Take argmax of scores or threshold probabilities first."
        )
    return array


def check_label_range(labels: np.ndarray, k: int, name: str) -> None:
    """Raise ``ValueError`` unless every integer in ``labels`` is a class index in ``[0, k)``."""
    if labels.size == 0:
        return
    high = labels.max()
    low = labels.min() if np.issubdtype(labels.dtype, np.signedinteger) else 0
    if high >= k or low < 0:
        bad = high if high >= k else low
        raise ValueError(
            f"Expected '{name}' to hold class indices in [0, {k}) for num_classes={k}; "
            f"found {int(bad)}. An ignore label (255, -1) is no class: select the elements "
            "to score first (`keep = true != 255`, then `true[keep]`, `pred[keep]`)."
        )


def check_num_classes(num_classes: int, name: str = "num_classes") -> None:
    """Raise ``ValueError`` unless ``num_classes`` (the parameter ``name``: also ``n_bins``)
    is an integer >= 1."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise ValueError(f"The '{name}' parameter must be an int >= 1; got {num_classes!r}.")
    if num_classes < 1:
        raise ValueError(f"The '{name}' parameter must be an int >= 1; got {num_classes}.")


class NonFiniteScoresError(RadpipeError, ValueError):
    """Scores or probabilities hold NaN or infinity; the message says how many samples."""


def check_finite_scores(scores: np.ndarray, name: str = "scores") -> None:
    """Raise :class:`NonFiniteScoresError` naming how many samples have a non-finite score.

    A NaN score (a diverged model, a NaN image) is not data: any figure computed from it is
    meaningless, so it is refused rather than skipped (scikit-learn's ``roc_auc_score``
    raises on NaN for the same reason, scikit-learn #5735).

    Parameters
    ----------
    scores
        ``(N,)`` or ``(N, K)`` float scores; axis 0 indexes samples.
    """
    bad = ~np.isfinite(scores)
    if bad.any():
        rows = bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad
        raise NonFiniteScoresError(
            f"{int(rows.sum())} of {rows.size} samples have non-finite {name} (NaN or inf); "
            "no figure is computed from them. Check the model's outputs (a diverged model, "
            "a NaN image) before evaluating."
        )


def case_labels(values: ArrayOrTensor, name: str = "true") -> np.ndarray:
    """One label per case as a ``(N,)`` array, from ``(N,)`` or ``(N, 1)``.

    Raises
    ------
    ValueError
        Any other shape: an ``(N, K)`` one-hot or multi-label truth was flattened into
        ``N * K`` labels and refused as "Expected 8 scores; got 4", naming neither.
    """
    array = to_numpy(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim > 1:
        raise ValueError(
            f"Expected '{name}' of shape (N,), one class per case; got {array.shape}, a "
            "one-hot or multi-label truth. Pass its argmax(axis=1) for one-hot classes; "
            "score each label's column on its own for multi-label."
        )
    return array.ravel()


def binary_truth(values: ArrayOrTensor, name: str = "true") -> np.ndarray:
    """Binary truth as a boolean ``(N,)`` array: booleans, 0/1, or -1/1 (-1 negative).

    Those are the encodings scikit-learn reads without a ``pos_label``. Any other pair of
    values (1/2, 0/255, class names) names no positive class: reading it as "nonzero is
    positive" made every case positive and the AUC NaN without a word, so it is refused.

    Raises
    ------
    ValueError
        If the values are not numbers or booleans, or hold anything but 0/1 or -1/1.

    Examples
    --------
    >>> binary_truth([-1, 1, 1]).tolist()
    [False, True, True]
    """
    array = case_labels(values, name)
    if array.dtype == bool:
        return array
    found = np.unique(array) if array.dtype.kind in "iuf" else None
    if found is not None and set(found.tolist()) <= {0, 1}:
        return array == 1
    if found is not None and set(found.tolist()) <= {-1, 1}:
        return array == 1
    shown = sorted({str(v) for v in (found if found is not None else np.unique(array))})
    raise ValueError(
        f"Expected binary '{name}' as 0/1, -1/1 or booleans; got the values {shown[:6]}, "
        "which name no positive class. Pass `true == positive_class`."
    )


def class_probabilities(
    true: ArrayOrTensor, probs: ArrayOrTensor, *, positive: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, probabilities)``: ``(N,)`` int64 and ``(N, K)`` float64, checked.

    ``probs`` is ``(N, K)`` class probabilities, or, for two classes, ``(N,)`` the
    probability of class ``positive`` (scikit-learn's ``y_prob``), made ``(N, 2)``.

    Raises
    ------
    ValueError
        ``probs`` is neither, 1-D values fall outside [0, 1] (scores or logits, not a
        probability), a row of ``(N, K)`` does not sum to 1 within 1e-3 (logits or
        one-vs-rest scores; a float32 softmax is off by ~1e-7), ``true`` and ``probs`` have
        different numbers of samples, or ``true`` holds anything but class indices in
        ``[0, K)`` (1/2, -1/1, fractions).
    NonFiniteScoresError
        A probability is NaN or infinite.

    Examples
    --------
    >>> labels, p = class_probabilities([0, 1], [0.2, 0.9])
    >>> p.tolist()
    [[0.8, 0.2], [0.09999999999999998, 0.9]]
    """
    raw = case_labels(true)
    p = to_numpy(probs).astype(np.float64)
    check_finite_scores(p, "probabilities")
    if p.ndim == 1:
        if positive not in (0, 1):
            raise ValueError(f"1-D probabilities are of class 0 or 1; got positive={positive}.")
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(
                f"1-D 'probs' are read as the probability of class {positive}, in [0, 1]; got "
                f"values from {p.min():.4g} to {p.max():.4g} (scores or logits?)."
            )
        p = np.stack([1.0 - p, p] if positive == 1 else [p, 1.0 - p], axis=1)
    if p.ndim != 2:
        raise ValueError(
            f"Expected 'probs' of shape (N, K), or (N,) for two classes; got {p.shape}."
        )
    if len(p) != raw.size:
        raise ValueError(f"'true' has {raw.size} samples and 'probs' {len(p)}: one row per sample.")
    sums = p.sum(axis=1)
    off = int((np.abs(sums - 1.0) > 1e-3).sum())
    if off:
        raise ValueError(
            f"Expected class probabilities (rows summing to 1); {off} of {len(p)} rows sum to "
            f"between {sums.min():.4g} and {sums.max():.4g}."
        )
    return _class_indices(raw, p.shape[1]), p


def _class_indices(raw: np.ndarray, k: int) -> np.ndarray:
    """``raw`` as int64 class indices, refusing anything that is no column of ``k``.

    A truth of 1/2 (or -1/1, or 1.5) was cast and compared with the columns as given: class
    2 matched no column, so it counted as a wrong top-class prediction (ECE) and as a
    negative (Brier, average precision) without a word.
    """
    whole = raw.dtype.kind in "biu" or (
        raw.dtype.kind == "f" and bool(np.all(np.isfinite(raw) & (raw == np.round(raw))))
    )
    labels = raw.astype(np.int64) if whole else np.zeros(0, dtype=np.int64)
    if not whole or (labels.size and (labels.min() < 0 or labels.max() >= k)):
        shown = sorted({str(v) for v in np.unique(raw)})
        raise ValueError(
            f"Expected 'true' to hold class indices in [0, {k}), one per column of the "
            f"probabilities; got the values {shown[:6]}. Map the labels to column indices "
            "first (e.g. 1/2 -> 0/1)."
        )
    return labels


def positive_scores(scores: ArrayOrTensor, n: int, name: str = "scores") -> np.ndarray:
    """A binary problem's ``(N,)`` float64 positive-class scores, from ``(N,)`` or ``(N, 1)``.

    Raises
    ------
    ValueError
        Any other shape: ``(N, K)`` class probabilities name no single score (they were
        flattened into ``N * K`` values, which matched a truth of that length silently);
        or a number of scores other than ``n``.
    NonFiniteScoresError
        A score is NaN or infinite.
    """
    s = to_numpy(scores).astype(np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1:
        raise ValueError(
            f"Expected '{name}' of shape (N,) or (N, 1), the positive class's score; got "
            f"{s.shape}. Of (N, K) class probabilities, pass the positive class's column."
        )
    check_finite_scores(s, name)
    if s.size != n:
        raise ValueError(f"Expected {n} {name}, one per truth; got {s.size}.")
    return s


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of a 1-D array's values, ties sharing the mean of their ranks (midranks).

    The same numbers as ``scipy.stats.rankdata(values)`` (its default ``method="average"``)
    for finite values; kept here so that scoring does not import ``scipy.stats``, about 2 s
    of CPU at the start of every ``radpipe run`` / ``evaluate`` (measured, 2026-12).

    Parameters
    ----------
    values : ndarray
        ``(N,)`` finite numbers (the callers check them).

    Returns
    -------
    ndarray
        ``(N,)`` float64; ``[10, 20, 20, 5]`` gives ``[2, 3.5, 3.5, 1]``.
    """
    v = np.asarray(values).ravel()
    order = np.argsort(v, kind="stable")
    ordered = v[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # first of each tie
    counts = np.diff(np.r_[starts, v.size])
    ranks = np.empty(v.size, dtype=np.float64)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def tied_top(scores: np.ndarray, axis: int = 1, where: np.ndarray | None = None) -> int:
    """How many rows of ``(N, K)`` scores share their largest value between classes.

    The prediction is the argmax, and an exact tie (0.5 / 0.5 from equal logits) goes to the
    lowest class index, as numpy's, torch's and scikit-learn's ``predict_proba`` argmax do;
    the count lets evaluation and prediction say how many cases that rule decided. ``axis``
    is the class axis (0 for a segmentation's ``(K, *spatial)`` map: tied voxels), and
    ``where`` (bool, the other axes' shape) the elements counted (``None``: all).

    Examples
    --------
    >>> tied_top(np.array([[0.5, 0.5], [0.4, 0.6], [0.3, 0.7]]))
    1
    >>> tied_top(np.array([[[0.5, 0.2]], [[0.5, 0.8]]]), axis=0)  # (K=2, 1, 2): one voxel
    1
    """
    top = scores.max(axis=axis, keepdims=True)
    tied = (scores == top).sum(axis=axis) > 1
    return int(np.count_nonzero(tied if where is None else tied & where))


def tie_example(num_classes: int) -> str:
    """What a tie of :func:`tied_top` looks like among ``num_classes`` probabilities.

    With 2 classes a tie is 0.5 / 0.5; with more, two or more classes share the top value
    (0.5 / 0.5 / 0 is one, so is 0.4 / 0.4 / 0.2).

    Examples
    --------
    >>> tie_example(2)
    '0.5 / 0.5'
    >>> tie_example(3)
    '2 or more of the 3 classes at the top, e.g. 0.4 / 0.4 / 0.2'
    >>> tie_example(6)
    '2 or more of the 6 classes at the top, e.g. 0.4 / 0.4 / 0.05 / 0.05 / ...'
    """
    if num_classes <= 2:
        return "0.5 / 0.5"
    rest = f"{0.2 / (num_classes - 2):.3g}"
    shown = ["0.4", "0.4", *[rest] * min(num_classes - 2, 2)]
    more = " / ..." if num_classes > 4 else ""
    return f"2 or more of the {num_classes} classes at the top, e.g. {' / '.join(shown)}{more}"
