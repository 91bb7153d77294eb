"""The words that start ``convert``'s ``errors.csv`` reasons its summary counts by.

Written and matched from here alone: the summary's counts of files refused under
``--strict`` and of their series' other files (:class:`~workflows.convert.collect.
ConvertResult`) read the reasons the tasks wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.dicom.notes import join_notes

__all__ = ["STRICT_MATE", "STRICT_REFUSED", "mate_reason", "strict_reason"]

#: A file refused under ``--strict`` for its own problems (its series may be converted).
STRICT_REFUSED = "refused under --strict: "
#: A file not converted because another file of its series was refused under ``--strict``.
STRICT_MATE = "not converted: its series was refused under --strict on "


def strict_reason(problems: Sequence[str] | str) -> str:
    """``refused under --strict: a; b``, for a file's problems (or their text)."""
    return STRICT_REFUSED + (problems if isinstance(problems, str) else join_notes(problems))


def mate_reason(error: str, at_fault: str) -> str:
    """The reason of a file of the series of ``at_fault``, whose ``error`` kept the series
    from being converted: refused under ``--strict`` (:data:`STRICT_MATE`), or failed."""
    if error.startswith(STRICT_REFUSED):
        return STRICT_MATE + at_fault
    return f"not converted: its series failed on {at_fault}"
