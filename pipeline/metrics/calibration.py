"""Calibration, precision-recall and operating points of a classifier, via scikit-learn.

- Calibration: the reliability diagram (scikit-learn's ``calibration_curve``), the Brier score
  (``brier_score_loss``; multi-class: the sum over classes of squared errors, Brier 1950) and
  the expected calibration error (ECE: the bin-weighted mean gap between confidence and
  accuracy, equal-width bins of the top-class probability; Guo et al., ICML 2017, eq. 3).
- Precision-recall: ``precision_recall_curve`` and ``average_precision_score`` (one-vs-rest).
- Operating point: a threshold on the positive-class probability chosen on the *validation*
  split, by Youden's J (max sensitivity + specificity - 1; Youden, Cancer 3 (1950) 32-35) or as
  the highest threshold reaching a target sensitivity.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from pipeline.metrics._arrays import (
    binary_truth,
    check_num_classes,
    class_probabilities,
    positive_scores,
)
from pipeline.metrics.roc import ovr_ranks
from pipeline.words import word

OperatingRule = Literal["youden", "sensitivity"]

#: How probabilities are binned, for the policy that ``metrics.json`` gives (scikit-learn's
#: ``np.searchsorted(edges[1:-1], p)``: a probability on an edge is in the lower bin).
CALIBRATION_BINS = (
    "10 equal-width bins closed on the right, as scikit-learn's calibration_curve bins them "
    "((0.4, 0.5] holds 0.5; the first is [0, 0.1])"
)


def calibration_summary(
    true: np.ndarray, probs: np.ndarray, *, n_bins: int = 10, positive: int = 1
) -> dict[str, Any]:
    """Reliability diagram bins, Brier score and ECE of class probabilities.

    Parameters
    ----------
    true
        ``(N,)`` int class indices.
    probs
        ``(N, K)`` finite probabilities (rows summing to 1), or ``(N,)`` the probability of
        class ``positive`` of two.
    n_bins
        Equal-width bins of the confidence over [0, 1].
    positive
        Two classes: the index of the positive class, whose probability the bins and the
        Brier score describe (``evaluate.positive_class``).

    Returns
    -------
    dict
        ``brier`` (binary: of the positive class, in [0, 1]; K > 2: multi-class, in [0, 2]),
        ``ece`` (top-class confidence, in [0, 1]), ``ece_curve`` (the ECE of the bins below:
        binary, of the positive class's probability; K > 2, equal to ``ece``), ``n_bins``,
        ``target`` (what the bins describe), ``bins``: ``confidence`` (mean predicted
        probability per non-empty bin), ``observed`` (fraction of positives / of correct
        predictions) and ``count``.

    Raises
    ------
    ValueError
        If a probability is not finite, a row does not sum to 1 within 1e-3 (logits or
        one-vs-rest scores given for probabilities), the shapes are not as above, or the
        truth is not class indices in ``[0, K)``
        (:func:`pipeline.metrics._arrays.class_probabilities`). Rows within that are renormalised in
        float64 (a float32 softmax is off by ~1e-7).
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    check_num_classes(n_bins, "n_bins")  # 0 bins gave a 1-bin ECE
    labels, p = class_probabilities(true, probs, positive=positive)
    k = p.shape[1]
    p = p / p.sum(axis=1)[:, None]  # float32 softmax rounding (~1e-7): scikit-learn warns
    if k == 2:
        event, score = labels == positive, p[:, positive]
        brier = float(brier_score_loss(event, score))
        target = "positive class: predicted probability vs observed fraction of positives"
    else:
        brier = float(brier_score_loss(labels, p, labels=list(range(k))))
        event, score = p.argmax(axis=1) == labels, p.max(axis=1)
        target = "top class: confidence vs observed accuracy"
    observed, confidence = calibration_curve(event, score, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], score), minlength=n_bins)
    filled = counts[counts > 0]  # calibration_curve's bins: the non-empty ones, in order
    return {
        "brier": brier,
        "ece": expected_calibration_error(labels, p, n_bins=n_bins),
        "ece_curve": float((filled * np.abs(observed - confidence)).sum() / labels.size),
        "n_bins": n_bins,
        "target": target,
        "bins": {
            "confidence": confidence.tolist(),
            "observed": observed.tolist(),
            "count": [int(c) for c in counts if c > 0],
        },
    }


def expected_calibration_error(true: np.ndarray, probs: np.ndarray, *, n_bins: int = 10) -> float:
    """ECE of the top-class confidence: ``sum_b n_b / N * |accuracy_b - confidence_b|``.

    ``probs``: ``(N, K)`` class probabilities, or ``(N,)`` the probability of class 1 of two;
    ``true``: class indices in ``[0, K)``. Both are checked as by :func:`calibration_summary`
    (logits, whose rows do not sum to 1, were binned as confidences).

    Examples
    --------
    Four cases in four bins: gaps |1 - 0.9|, |0 - 0.8|, |1 - 0.7|, |1 - 0.6| -> 1.6 / 4.

    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> round(expected_calibration_error(np.array([0, 1, 1, 1]), probs, n_bins=10), 3)
    0.4
    """
    check_num_classes(n_bins, "n_bins")  # 0 bins gave a 1-bin ECE
    labels, p = class_probabilities(true, probs)
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == labels).astype(np.float64)
    bins = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)  # as scikit-learn
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total / labels.size)


def precision_recall(true: np.ndarray, probs: np.ndarray, *, positive: int = 1) -> dict[str, Any]:
    """Average precision per class (one-vs-rest; binary: the ``positive`` class only).

    ``probs``: ``(N, K)`` class probabilities, or ``(N,)`` the probability of class
    ``positive`` of two.

    Cases are ranked by :func:`pipeline.metrics.roc.ovr_ranks` of the probabilities (float32
    probabilities saturated at 1.0 keep their order).

    Returns ``{"average_precision": {class index: AP}, "average_precision_macro": mean}``;
    AP is NaN for a class with no positive case (precision-recall is undefined there), and
    the macro mean is then NaN with a ``RuntimeWarning`` naming the classes, as
    :func:`pipeline.metrics.roc.roc_auc_score` does. (scikit-learn's
    ``average_precision_score`` counts such a class as 0 with a warning, which lowers the
    mean by a class that was never there.)
    """
    from sklearn.metrics import average_precision_score

    labels, p = class_probabilities(true, probs, positive=positive)
    classes = [positive] if p.shape[1] == 2 else list(range(p.shape[1]))
    ranked = ovr_ranks(p)  # the order of the probabilities, saturated ones kept apart
    ap: dict[int, float] = {}
    for c in classes:
        is_c = labels == c
        ap[c] = float(average_precision_score(is_c, ranked[:, c])) if is_c.any() else np.nan
    undefined = [c for c, v in ap.items() if np.isnan(v)]
    if undefined:
        warnings.warn(
            f"Average precision is undefined for {word(len(undefined), 'class')} {undefined} (no "
            "positive case): the macro mean is NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
    return {
        "average_precision": ap,
        "average_precision_macro": float("nan") if undefined else float(np.mean(list(ap.values()))),
    }


def choose_threshold(
    true: np.ndarray,
    positive_probs: np.ndarray,
    *,
    rule: OperatingRule = "youden",
    target_sensitivity: float = 0.9,
) -> dict[str, Any]:
    """A threshold on the positive-class probability, chosen on validation data.

    A case is called positive when its probability is ``>= threshold``.

    Parameters
    ----------
    true
        ``(N,)`` binary truth of the validation cases: 0/1, -1/1 or booleans.
    positive_probs
        ``(N,)`` or ``(N, 1)`` finite positive-class probabilities, one per truth.
    rule
        ``"youden"``: maximise sensitivity + specificity - 1 (ties: the highest threshold);
        ``"sensitivity"``: the highest threshold whose sensitivity is >= ``target_sensitivity``.

    Returns
    -------
    dict
        ``threshold``, ``rule``, ``target_sensitivity`` (for that rule), and the validation
        ``sensitivity`` and ``specificity`` at the threshold.

    Raises
    ------
    ValueError
        If the validation cases lack a positive or a negative, the truth is not 0/1, -1/1 or
        booleans, a score is not finite, or the scores are not one per truth.

    Examples
    --------
    >>> choose_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))["threshold"]
    0.8
    """
    from sklearn.metrics import roc_curve

    positive = binary_truth(true)
    s = positive_scores(positive_probs, positive.size, "probabilities")
    if positive.all() or not positive.any():
        raise ValueError(
            "Choosing an operating point needs validation cases of both classes; got "
            f"{int(positive.sum())} positive of {positive.size}."
        )
    fpr, tpr, thresholds = roc_curve(positive, s, drop_intermediate=False)
    fpr, tpr, thresholds = fpr[1:], tpr[1:], thresholds[1:]  # drop the (inf) origin
    if rule == "youden":
        youden = tpr - fpr
        # first maximum = highest threshold; J ties within rounding (2/3 - 0 and 1 - 1/3
        # differ in the last bit, which picked the lower threshold)
        i = int(np.flatnonzero(youden >= youden.max() - 1e-12)[0])
    elif rule == "sensitivity":
        if not 0 < target_sensitivity <= 1:
            raise ValueError(f"target_sensitivity must be in (0, 1]; got {target_sensitivity}.")
        i = int(np.flatnonzero(tpr >= target_sensitivity - 1e-12)[0])
    else:
        raise ValueError(f"The 'rule' parameter must be 'youden' or 'sensitivity'; got {rule!r}.")
    out: dict[str, Any] = {
        "threshold": float(thresholds[i]),
        "rule": rule,
        "sensitivity": float(tpr[i]),
        "specificity": float(1 - fpr[i]),
    }
    if rule == "sensitivity":
        out["target_sensitivity"] = target_sensitivity
    elif tpr[i] - fpr[i] <= 1e-12:  # scores that do not separate (or invert) the classes
        out["note"] = (
            "Youden's J is at most 0 on the validation cases: no threshold does better than "
            "chance (the probabilities do not separate the classes, or rank them reversed)"
        )
    return out
