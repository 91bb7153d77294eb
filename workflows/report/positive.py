"""Which of two classes is positive (scikit-learn's ``pos_label``), and how ``metrics.json``,
the printed line of test figures and the report say it.

Class 1 is positive unless ``evaluate.positive_class`` names the other. BreastMNIST labels
malignant 0 and benign 1, so the default's sensitivity is that of finding benign lesions: a
positive class nothing chose is said to be the default, naming the class it is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.errors import RadpipeError

#: ``metrics.json`` ``positive_class_chosen_by`` of a two-class run that named no positive class.
DEFAULT_POSITIVE = "default: class 1 (evaluate.positive_class not set)"


def default_note(class_names: Sequence[str]) -> str:
    """Why class 1 is positive when nothing chose it, naming the class left negative."""
    return f"(by default: class 1, not {class_names[0]}; evaluate.positive_class chooses)"


def positive_class_said(metrics: Mapping[str, Any]) -> str | None:
    """The positive class of a two-class ``metrics.json`` as the headline and the report's
    cards name it: its name, and when nothing chose it (``positive_class_chosen_by``) that it
    is class 1 by default and not the other (``benign (by default: class 1, not malignant;
    evaluate.positive_class chooses)``); ``None`` for other tasks. A bare ``benign`` was read
    as the disease's class when the disease was class 0 (BreastMNIST's malignant).

    Examples
    --------
    >>> positive_class_said({"positive_class": "benign", "class_names": ["malignant", "benign"],
    ...                      "positive_class_chosen_by": DEFAULT_POSITIVE})
    'benign (by default: class 1, not malignant; evaluate.positive_class chooses)'
    """
    name = metrics.get("positive_class")
    if name is None:
        return None
    names = metrics.get("class_names") or []
    if metrics.get("positive_class_chosen_by") != DEFAULT_POSITIVE or len(names) != 2:
        return str(name)
    return f"{name} {default_note(names)}"


#: ``metrics.json`` figures of a two-class run that are of its positive class.
POSITIVE_FIGURES = frozenset(
    {"sensitivity", "specificity", "precision", "npv", "f1"}
    | {"roc_auc_macro", "roc_auc_delong", "average_precision_macro"}
)


def figure_named(key: str, metrics: Mapping[str, Any]) -> str:
    """``key`` as a report table names it: with the positive class for a figure of it in a
    two-class run (``sensitivity (positive class: malignant)``), else unchanged. The Summary,
    interval and cross-validation tables gave a bare ``sensitivity``.

    Examples
    --------
    >>> figure_named("roc_auc_macro", {"positive_class": "malignant"})
    'roc_auc_macro (positive class: malignant)'
    """
    said = positive_class_said(metrics)
    return key if said is None or key not in POSITIVE_FIGURES else f"{key} (positive class: {said})"


def title_note(metrics: Mapping[str, Any]) -> str:
    """A figure title's second line for a two-class run: ``positive class: benign`` (``,
    class 1 by default`` when nothing chose it); "" otherwise."""
    name = metrics.get("positive_class")
    if name is None:
        return ""
    by_default = metrics.get("positive_class_chosen_by") == DEFAULT_POSITIVE
    return f"positive class: {name}" + (" (class 1 by default)" if by_default else "")


def curve_args(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The ROC, precision-recall and reliability figures' ``positive`` and title ``note`` for
    a two-class ``metrics.json``; ``{}`` otherwise."""
    names = list(metrics.get("class_names") or [])
    if len(names) != 2 or metrics.get("positive_class") not in names:
        return {}
    return {"positive": names.index(metrics["positive_class"]), "note": title_note(metrics)}


def positive_index(value: str | int | None, class_names: Sequence[str]) -> int:
    """The index of the positive class named by ``evaluate.positive_class``.

    ``None`` is class 1 (scikit-learn's default ``pos_label``); a name must be one of the two
    ``class_names``, an index 0 or 1. Only a two-class run has a positive class.

    Raises
    ------
    RadpipeError
        If ``value`` is given for a run without exactly two classes, or names neither class.

    Examples
    --------
    >>> positive_index("malignant", ["malignant", "normal_benign"])
    0
    """
    if value is None:
        return 1
    names = list(class_names)
    if len(names) != 2:
        raise RadpipeError(
            f"evaluate.positive_class {value!r}: only a run with two classes has a positive "
            f"class; this one has {len(names)} ({', '.join(names)})."
        )
    if isinstance(value, str) and value in names:
        return names.index(value)
    if not isinstance(value, bool) and value in (0, 1):  # an index (YAML 0 / 1)
        return int(value)
    raise RadpipeError(
        f"evaluate.positive_class {value!r} is neither class: give {names[0]!r} or "
        f"{names[1]!r} (or the index 0 or 1)."
    )
