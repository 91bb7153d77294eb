"""Classification figures for ``metrics.json``: rates, ROC/PR, calibration, an operating point
chosen on validation, and intervals by bootstrap over patients (DeLong for a binary AUC).

Scores must be finite: a NaN probability (a diverged model) is an error naming how many
samples, never a prediction (``argmax`` of a NaN row is meaningless). NaN *validation*
probabilities cost the operating point alone: ``operating_point.error`` and
``undefined_metrics.operating_point`` say why, and no fallback threshold is chosen.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.metrics import (
    BOOTSTRAP_METHOD,
    bootstrap_cis,
    calibration_summary,
    check_finite_scores,
    confusion_matrix,
    delong_roc_ci,
    normalize_confusion,
    ovr_ranks,
    precision_recall,
    rates_from_confusion,
    roc_auc_score,
)
from pipeline.metrics._arrays import tie_example, tied_top
from pipeline.metrics.calibration import CALIBRATION_BINS, OperatingRule
from pipeline.metrics.proportions import exact_when_unanimous
from workflows.report.operating_point import binary_figures
from workflows.report.positive import default_note
from workflows.report.undefined import macro_averages, undefined_reasons

#: The prediction rule, as ``policy.prediction`` gives it (with the count of tied cases).
_ARGMAX = ("argmax of probabilities; a tie ({tie}) is the lower class index, as numpy, "
           "torch and scikit-learn predict_proba argmax")  # fmt: skip
_RATES = ("sensitivity", "specificity", "precision", "npv", "f1")
#: Interval figures defined only on a resample holding every class of the test cases.
_EVERY_CLASS = frozenset({"balanced_accuracy", "f1_macro", "roc_auc_macro"})
#: Summary figures that get a bootstrap interval.
_INTERVAL_KEYS = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc_macro")


def evaluate_classification(
    true: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    patients: Sequence[str] | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    operating_point: OperatingRule = "youden",
    target_sensitivity: float = 0.9,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    mistakes: int = 8,
    positive: int | None = None,
) -> dict[str, Any]:
    """Every classification figure, as the content of ``metrics.json``.

    Parameters
    ----------
    true
        True class indices ``(N,)``.
    probs, class_names
        Class probabilities ``(N, K)``, finite (the prediction is their argmax); K names.
    ids, patients
        Opaque case ids (default running numbers) and the patient key of each case, the unit
        the bootstrap resamples (default: ``ids``).
    validation, operating_point, target_sensitivity
        ``(true, probs)`` of the validation split; with two classes, the operating point is
        chosen on it by that rule (:func:`pipeline.metrics.choose_threshold`) and the test
        confusion matrix is given at that threshold.
    n_resamples, seed, level, mistakes, positive
        Bootstrap intervals (``n_resamples=0``: none); most confident mistakes listed; two
        classes: the positive class's index, 0 or 1 (``pos_label``; ``None``: 1, by default).

    Returns
    -------
    dict
        ``summary`` (accuracy, balanced accuracy, macro rates, ROC AUC, average precision,
        Brier, ECE), ``intervals``, ``per_class``, ``confusion_matrix`` (rows = truth),
        ``calibration``, ``operating_point``, ``most_confident_mistakes``, ``per_case``,
        ``prediction_ties`` (cases whose top probability ties: the lower class index), ...

    Raises
    ------
    NonFiniteScoresError
        If a probability is NaN or infinite (the message says how many samples).
    ValueError
        If the shapes disagree, or ``positive`` is not 0 or 1 for two classes.
    """
    labels, scores = np.asarray(true).astype(np.int64).ravel(), np.asarray(probs, np.float64)
    k, tied = len(class_names), (tied_top(scores), labels.size)  # cases of a tied top, of N
    positive, chosen = _check_inputs(labels, scores, k, positive)
    names = list(ids) if ids is not None else [f"case{i}" for i in range(labels.size)]
    groups = list(patients) if patients is not None else names
    summary, per_class, cm = _figures(labels, scores, class_names, positive)
    cal = _add_calibration_and_pr(labels, scores, class_names, (summary, per_class), positive)
    out: dict[str, Any] = {
        "task": "classification",
        "num_classes": k,
        "class_names": list(class_names),
        "case_unit": "case",
        "num_cases": int(labels.size),
        "num_patients": len(set(groups)),
        "policy": _policy(class_names, level, validation is not None, (positive, chosen), tied),
        "prediction_ties": tied[0],
        "summary": summary,
        "per_class": per_class,
        "macro_averages": macro_averages(cm, class_names),
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_by_true": normalize_confusion(cm, by="true").tolist(),
        "calibration": cal,
        "most_confident_mistakes": _mistakes(labels, scores, names, mistakes),
        "per_case": _per_case(labels, scores, names, groups),
    }
    out |= _intervals(labels, scores, class_names, groups, (n_resamples, seed, level), positive)
    if k == 2:  # positive_class, positive_class_chosen_by, operating_point
        choice, said = (operating_point, target_sensitivity), (class_names[positive], chosen)
        out |= binary_figures(labels, scores, said, validation, choice, positive)
    return out | _undefined(labels, class_names, out, positive)  # why a figure is null


def _undefined(
    labels: np.ndarray, class_names: Sequence[str], out: dict[str, Any], positive: int
) -> dict[str, Any]:
    """``{"undefined_metrics": {key: why}}`` for every null summary figure
    (:func:`workflows.report.undefined.undefined_reasons`: ROC AUC warned once as
    scikit-learn warns, the positive class's rates of 0 of 0 cases, a macro mean with no
    class to average, average precision), and ``"operating_point"`` when none was chosen;
    all printed under the headline; else ``{}``."""
    averages = out["macro_averages"]
    reasons = undefined_reasons(labels, class_names, out["summary"], averages, positive)
    operating_point = out.get("operating_point") or {}
    if "error" in operating_point:
        reasons["operating_point"] = f"no operating point: {operating_point['error']}"
    return {"undefined_metrics": reasons} if reasons else {}


def _check_inputs(
    labels: np.ndarray, scores: np.ndarray, k: int, positive: int | None
) -> tuple[int, bool]:
    """Refuse mismatched or non-finite inputs; the positive class's index (1 for ``None``)
    and whether the caller chose it."""
    if scores.shape != (labels.size, k):
        raise ValueError(f"Expected probs of shape ({labels.size}, {k}); got {scores.shape}.")
    check_finite_scores(scores, "probabilities")
    if k == 2 and positive not in (0, 1, None):
        raise ValueError(f"positive must be 0 or 1 for two classes; got {positive}.")
    return (1, False) if positive is None else (positive, True)


def _add_calibration_and_pr(
    labels: np.ndarray,
    scores: np.ndarray,
    class_names: Sequence[str],
    tables: tuple[dict[str, Any], dict[str, dict[str, Any]]],
    positive: int,
) -> dict[str, Any]:
    """Add AP, Brier and ECE to the summary and AP per class (two classes: of the
    ``positive`` class, as the plots draw them); return the calibration."""
    summary, per_class = tables
    cal = calibration_summary(labels, scores, positive=positive)
    with warnings.catch_warnings():  # a class without a positive case: undefined_metrics says
        warnings.filterwarnings("ignore", "Average precision is undefined", RuntimeWarning)
        ap = precision_recall(labels, scores, positive=positive)
    summary |= {
        "average_precision_macro": ap["average_precision_macro"],
        "brier": cal["brier"],
        "ece": cal["ece"],
    }
    for c, value in ap["average_precision"].items():
        per_class[class_names[c]]["average_precision"] = value
    return cal


def _per_case(
    labels: np.ndarray, scores: np.ndarray, names: list[str], groups: list[str]
) -> list[dict[str, Any]]:
    pred = scores.argmax(axis=1)
    return [
        {"id": names[i], "patient": groups[i], "true": int(labels[i]), "pred": int(pred[i]),
         "probs": scores[i].tolist()}
        for i in range(labels.size)
    ]  # fmt: skip


def _figures(
    labels: np.ndarray, scores: np.ndarray, class_names: Sequence[str], positive: int = 1
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], np.ndarray]:
    k = len(class_names)
    cm = confusion_matrix(labels, scores.argmax(axis=1), k)
    rates = rates_from_confusion(cm)
    if k == 2:
        auc = np.full(2, float(roc_auc_score(labels, scores)))
    else:
        auc = np.atleast_1d(roc_auc_score(labels, scores, average="none"))
    summary: dict[str, Any] = {
        "accuracy": rates["accuracy"],
        "balanced_accuracy": rates["balanced_accuracy"],
        **{f"{name}_macro": rates[f"{name}_macro"] for name in _RATES},
        "roc_auc_macro": float(auc[1]) if k == 2 else _mean_or_nan(auc),
    }
    if k == 2:  # the positive class's own rates: for two classes the macro sensitivity and
        # the macro specificity are both the balanced accuracy, (sensitivity + specificity) / 2
        summary |= {name: float(np.asarray(rates[name])[positive]) for name in _RATES}
    per_class = {
        name: {
            "support": int(np.asarray(rates["support"])[c]),
            **{rate: float(np.asarray(rates[rate])[c]) for rate in _RATES},
            "roc_auc": float(auc[c]),
        }
        for c, name in enumerate(class_names)
    }
    return summary, per_class, cm


def _mean_or_nan(values: np.ndarray) -> float:
    """Macro mean that is NaN as soon as one class is undefined: never a mean of a subset."""
    return float(values.mean()) if values.size and np.isfinite(values).all() else float("nan")


def _intervals(
    labels: np.ndarray,
    scores: np.ndarray,
    class_names: Sequence[str],
    groups: list[str],
    bootstrap: tuple[int, int, float],
    positive: int,
) -> dict[str, Any]:
    """``{"intervals": ...}``, or ``{}`` without resamples (``evaluate.bootstrap: 0``)."""
    n_resamples, seed, level = bootstrap
    if not n_resamples:
        return {}
    keys = (
        (*_INTERVAL_KEYS, "sensitivity", "specificity") if len(class_names) == 2 else _INTERVAL_KEYS
    )

    present = np.unique(labels)

    def stat(idx: np.ndarray) -> dict[str, float]:
        summary = _figures(labels[idx], scores[idx], class_names, positive)[0]
        # a resample without a class of the test cases measures another figure (balanced
        # accuracy over fewer classes): none, as ROC AUC is none there (n_valid says)
        lacks = np.setdiff1d(present, labels[idx]).size > 0
        return {key: float("nan") if lacks and key in _EVERY_CLASS else float(summary[key])
                for key in keys}  # fmt: skip

    out: dict[str, Any] = bootstrap_cis(
        stat, groups, n_resamples=n_resamples, seed=seed, level=level
    )
    # a proportion every resample agrees on (5 of 5 found) gets Clopper-Pearson's interval
    denominators = {"accuracy": labels >= 0}
    if len(class_names) == 2:
        denominators |= {"sensitivity": labels == positive, "specificity": labels != positive}
    for key, cases in denominators.items():
        out[key] = exact_when_unanimous(out[key], groups, cases)
    if len(class_names) == 2:
        margins = ovr_ranks(scores)[:, positive]  # ranked as roc_auc_score ranks them
        out["roc_auc_delong"] = delong_roc_ci(
            labels == positive, margins, level=level, groups=groups
        )
    return {"intervals": out}


def _mistakes(
    labels: np.ndarray, scores: np.ndarray, names: list[str], n: int
) -> list[dict[str, Any]]:
    """The wrong predictions made with the highest probability, most confident first."""
    pred = scores.argmax(axis=1)
    wrong = np.flatnonzero(pred != labels)
    order = wrong[np.argsort(-scores[wrong, pred[wrong]], kind="stable")][:n]
    return [
        {
            "id": names[i],
            "index": int(i),
            "true": int(labels[i]),
            "pred": int(pred[i]),
            "probability": float(scores[i, pred[i]]),
        }
        for i in order
    ]


def _policy(
    class_names: Sequence[str],
    level: float,
    operating: bool,
    choice: tuple[int, bool],
    tied: tuple[int, int],
) -> dict[str, str]:
    """The rules behind the figures, as ``metrics.json`` and the report list them.

    ``operating``: validation predictions are given; with two classes an operating point is
    then chosen, so its rule is listed; otherwise there is none to describe. With two classes,
    the rule names the positive class (class ``positive``), whose own rates the summary gives.
    ``choice``: that index, and whether the caller chose it (else it is the default, said).
    ``tied``: the cases whose top probability ties, of all cases (the prediction rule
    counts them).
    """
    k = len(class_names)
    positive, chosen = choice
    operating = operating and k == 2
    ties, n = tied
    ap = "of the positive class only" if k == 2 else "one-vs-rest, macro over the classes"
    rules = {
        "case_unit": "one case per sample: a series (data.unit series) or an image; "
        "intervals resample patients, not cases",
        "prediction": _ARGMAX.format(tie=tie_example(k))
        + (f": {ties} of {n} cases" if ties else ""),
        "undefined": "a per-class rate with a zero denominator is null, and undefined_metrics "
        "says why a summary figure is; *_macro means are over the classes in the truth or the "
        "predictions, an undefined rate counting 0 (scikit-learn and torchmetrics "
        "zero_division=0), except a specificity or NPV of a class that every test case is of "
        "(no negative case), left out; macro_averages names the classes of each mean",
        "non_finite": "a NaN or infinite probability is an error, never a prediction (of the "
        "validation split: no operating point, said in operating_point.error)",
        "roc_auc": "binary for 2 classes, else one-vs-rest macro (scikit-learn roc_auc_score "
        "multi_class='ovr', average='macro'; null if any class is undefined)",
        "confusion_matrix": "rows: true class, columns: predicted class, both in the order of "
        "class_names (index 0 first), as scikit-learn confusion_matrix(labels=range(K))",
        "average_precision": f"scikit-learn average_precision_score: {ap}",
        "calibration": "Brier score (scikit-learn brier_score_loss); ECE of the top-class "
        f"probability over {CALIBRATION_BINS}",
        "intervals": f"{level:.0%} {BOOTSTRAP_METHOD}"
        + ("; ROC AUC also by DeLong's method" if k == 2 else "")
        + "; a resample lacking a class of the test cases gives no balanced accuracy, macro "
        "F1 or ROC AUC (left out of n_valid)",
        "operating_point": "threshold on the positive-class probability chosen on the "
        "validation split, applied unchanged to the test split",
    }
    if k == 2:
        rules["binary"] = (
            "sensitivity, specificity, precision, npv and f1 are those of the positive class "
            + (
                f"(class {positive}, {class_names[positive]}; evaluate.positive_class)"
                if chosen
                else f"{class_names[positive]} {default_note(class_names)}"
            )
            + "; *_macro average both classes"
        )
    if not operating:
        del rules["operating_point"]
    return rules
