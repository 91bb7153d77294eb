"""Reporting: ``metrics.json`` (:mod:`.results`), plots (:mod:`.plots`) and the self-contained
HTML report (:mod:`.html`). Imports only ``pipeline``.

The functions users import from ``workflows.report`` (its public names before the package was
split into modules) are re-exported here, imported on first use so that importing the package
stays light: :func:`evaluate_classification`, :func:`evaluate_segmentation`,
:func:`to_json_safe`, :func:`write_metrics`, :func:`write_report`, :func:`read_log`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_PUBLIC = {
    "evaluate_classification": "classification",
    "evaluate_segmentation": "segmentation",
    "to_json_safe": "results",
    "write_metrics": "results",
    "write_report": "results",
    "read_log": "results",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'workflows.report' has no attribute {name!r}")
    return getattr(import_module(f"workflows.report.{module}"), name)
