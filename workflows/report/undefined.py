"""Why a classification figure is undefined, and which classes each macro mean holds.

A figure of 0/0 cases is null in ``metrics.json`` (never 0, never a mean of other classes
unsaid), and ``undefined_metrics.<key>`` says why in words that the closing line of ``radpipe
run`` / ``radpipe evaluate`` prints and the report shows beside the figure (``n/a (...)``).
``macro_averages`` lists, for every ``*_macro`` rate and the balanced accuracy, the classes
averaged, those whose undefined rate counted 0 (``zero_division=0``) and those left out, each
with its reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.metrics import macro_classes, rates_from_confusion, undefined_auc_reason
from pipeline.words import counted, word

_RATES = ("sensitivity", "specificity", "precision", "npv", "f1")


def macro_averages(cm: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``metrics.json``'s ``macro_averages``: per macro figure, ``classes`` (the names
    averaged), ``as_zero`` (of those, the classes whose rate is undefined and counted 0) and
    ``left_out`` (name: why it is not in the mean).

    Examples
    --------
    >>> macro_averages(np.array([[0, 0], [0, 4]]), ["benign", "malignant"])["specificity_macro"]
    ... # doctest: +NORMALIZE_WHITESPACE
    {'classes': [], 'as_zero': [],
     'left_out': {'benign': 'no test case of it and never predicted',
                  'malignant': 'every test case is of it: no negative case'}}
    """
    counts = np.asarray(cm, dtype=np.int64)
    rates, kept = rates_from_confusion(counts), macro_classes(counts)
    support, called = counts.sum(axis=1), counts.sum(axis=0)
    names = list(class_names)

    def why(c: int) -> str:
        if not support[c] and not called[c]:
            return "no test case of it and never predicted"
        return "every test case is of it: no negative case"

    out: dict[str, dict[str, Any]] = {}
    for rate in _RATES:
        values = np.asarray(rates[rate])
        out[f"{rate}_macro"] = {
            "classes": [names[c] for c in np.flatnonzero(kept[rate])],
            "as_zero": [names[c] for c in np.flatnonzero(kept[rate] & np.isnan(values))],
            "left_out": {names[c]: why(int(c)) for c in np.flatnonzero(~kept[rate])},
        }
    out["balanced_accuracy"] = {  # scikit-learn's: the mean recall of the classes in the truth
        "classes": [names[c] for c in np.flatnonzero(support > 0)],
        "as_zero": [],
        "left_out": {
            names[c]: "no test case of it" + (f" (predicted {counted(int(called[c]), 'time')})"
                                              if called[c] else "")
            for c in np.flatnonzero(support == 0)
        },
    }  # fmt: skip
    return out


def undefined_reasons(
    labels: np.ndarray,
    class_names: Sequence[str],
    summary: dict[str, Any],
    averages: dict[str, dict[str, Any]],
    positive: int,
) -> dict[str, str]:
    """``undefined_metrics``: why each null summary figure is null (ROC AUC warned once as
    scikit-learn's ``UndefinedMetricWarning``, as before); ``{}`` when every one is defined."""
    reasons: dict[str, str] = {}
    reason = undefined_auc_reason(labels, list(class_names))
    if reason:
        from sklearn.exceptions import UndefinedMetricWarning

        warnings.warn(reason, UndefinedMetricWarning, stacklevel=4)
        reasons["roc_auc"] = reason
    if len(class_names) == 2:
        reasons |= _binary_reasons(labels, class_names, summary, positive)
    for key, average in averages.items():
        value = summary.get(key)
        if isinstance(value, float) and np.isnan(value):
            shown = "; ".join(f"{name}: {why}" for name, why in average["left_out"].items())
            reasons[key] = f"{key} is undefined: no class to average ({shown})"
    if np.isnan(summary.get("average_precision_macro", 0.0)):
        reasons["average_precision"] = _ap_reason(labels, class_names, positive)
    return reasons


def _binary_reasons(
    labels: np.ndarray, class_names: Sequence[str], summary: dict[str, Any], positive: int
) -> dict[str, str]:
    """The positive class's own rates of 0/0 cases, each with its why."""
    name, other = class_names[positive], class_names[1 - positive]
    whys = {
        "sensitivity": f"no test case is of the positive class ({name}), 0 of 0 to find",
        "specificity": f"no test case is of the negative class ({other}), 0 of 0 to clear",
        "precision": f"no test case was called the positive class ({name}), 0 of 0 called",
        "npv": f"no test case was called the negative class ({other}), 0 of 0 called",
        "f1": f"no test case is of the positive class ({name}) and none was called it",
    }
    return {
        key: f"{key} is undefined: {why}"
        for key, why in whys.items()
        if isinstance(summary.get(key), float) and np.isnan(summary[key])
    }


def _ap_reason(labels: np.ndarray, class_names: Sequence[str], positive: int) -> str:
    """Average precision of a class without a positive case: no precision-recall curve
    (scikit-learn warns and counts such a class 0)."""
    if len(class_names) == 2:
        return (f"average precision is undefined: no test case is of the positive class "
                f"({class_names[positive]}), no precision-recall curve")  # fmt: skip
    absent = [f"{c} ({n})" for c, n in enumerate(class_names) if not (labels == c).any()]
    return (
        f"average precision (one-vs-rest) is undefined for {word(len(absent), 'class')} "
        f"{', '.join(absent)}: no test case of {'it' if len(absent) == 1 else 'them'}, so "
        "average_precision_macro is null"
    )


def reason_for(key: str, metrics: Any) -> str:
    """``undefined_metrics``' reason for the summary figure ``key`` (``roc_auc_macro`` is
    said under ``roc_auc``, a segmentation's Dice figures under ``dice``: ``_SAID_AS``);
    ``""`` when there is none."""
    reasons = metrics.get("undefined_metrics") or {}
    return str(reasons.get(key) or reasons.get(_SAID_AS.get(key, key)) or "")


def is_undefined(value: Any) -> bool:
    """A figure that is null in ``metrics.json`` (``None``, or NaN before it is written)."""
    return value is None or (isinstance(value, float) and bool(np.isnan(value)))


def shown_undefined(key: str, metrics: Any) -> str:
    """A null summary figure as the report shows it: ``n/a (why)``, or ``n/a``."""
    why = reason_for(key, metrics)
    return f"n/a ({why})" if why else "n/a"


def macro_notes(metrics: Any) -> list[str]:
    """Lines under the report's tables for each macro figure that is not the plain mean of
    every class: the classes it averages, those counted 0 and those left out, with why."""
    notes = []
    for key, average in (metrics.get("macro_averages") or {}).items():
        if not average["as_zero"] and not average["left_out"]:
            continue
        parts = [f"mean over {', '.join(average['classes']) or 'no class'}"]
        if average["as_zero"]:
            parts.append(f"undefined, counted 0: {', '.join(average['as_zero'])}")
        parts += [f"left out: {name} ({why})" for name, why in average["left_out"].items()]
        notes.append(f"{key}: {'; '.join(parts)}")
    return notes


#: Summary keys said under one reason: a segmentation's Dice figures are all 0/0 together.
_SAID_AS = {
    "roc_auc_macro": "roc_auc",
    "average_precision_macro": "average_precision",
    **{key: "dice" for key in ("dice_case_mean", "jaccard_case_mean", "dice_patient_mean",
                               "dice_dataset_macro", "jaccard_dataset_macro")},
    "hd95_mean": "hd95",
    "msd_mean": "msd",
    "nsd_mean": "nsd",
}  # fmt: skip


def segmentation_reasons(
    summary: dict[str, Any], scored: Sequence[str], cases: str
) -> dict[str, str]:
    """``undefined_metrics`` of a segmentation: why Dice (every scored class in neither mask
    of every case, ``empty: nan``), HD95/MSD (every distance failed or absent) or NSD (every
    class in neither mask) is null; ``{}`` when all are defined. ``cases``: ``volumes`` or
    ``images``."""
    classes = ", ".join(scored)
    reasons = {}
    if is_undefined(summary.get("dice_dataset_macro", 0.0)):
        reasons["dice"] = (
            f"Dice and Jaccard are undefined: no scored class ({classes}) is in the truth or "
            f"the prediction of any of the {cases}, 0/0 in each (empty: nan; empty: one "
            "scores such a case 1)"
        )
    for key in ("hd95", "msd"):
        if f"{key}_mean" in summary and is_undefined(summary[f"{key}_mean"]):
            failed, absent = summary.get(f"{key}_failed", 0), summary.get(f"{key}_absent", 0)
            parts = (
                [
                    f"{failed} failed (a class in one mask only: an infinite distance, left "
                    "out by evaluate.surface_failures: exclude)"
                ]
                if failed
                else []
            )
            parts += [f"{absent} absent (the class in neither mask)"] if absent else []
            reasons[key] = (
                f"{key}_mean is undefined: no ({cases[:-1]}, class) pair has a "
                f"finite distance: {' and '.join(parts)}"
            )
    if "nsd_mean" in summary and is_undefined(summary["nsd_mean"]):
        reasons["nsd"] = (
            f"nsd_mean is undefined: no scored class ({classes}) is in either mask of any of "
            f"the {cases}"
        )
    return reasons
