"""A series converted without a file whose pixels fail, when its volumes can do without it.

A file whose header reads but whose pixel data does not decode (a damaged JPEG stream) made
its whole series fail, as one that fails on its header did. When the file only repeats the
position of a readable slice, or was a volume of its own (a localizer in another plane), the
series is converted without it and the file is listed as failed with what was done
(:func:`pipeline.dicom.failed_slices.repeated_slices`, which also decides for files that fail
on their header); otherwise the series fails on it, as before (a volume without it would
have a gap, and dcm2niix fails such a series too).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.dicom.failed_slices import instance_number_of, instance_place, repeated_slices
from pipeline.dicom.files import Problem, escape_name
from pipeline.dicom.header import read_header
from pipeline.errors import DicomError
from workflows.convert.sources import LEFT_OUT, dropped_sources

#: What ``_run_series`` returns: manifest rows, ``sources.csv`` rows, problems.
Ran = tuple[list[dict[str, str]], list[dict[str, str]], tuple[str, ...]]
#: ``_run_series``: (task, options, written) -> :data:`Ran`.
RunSeries = Callable[[Any, Any, list[str | Path]], Ran]


def run_without_failed(
    task: Any, options: Any, written: list[str | Path], run: RunSeries
) -> dict[str, Any]:
    """``run(task, ...)``, again without each file whose pixels fail where that is safe.

    Returns the ``TaskResult`` fields: what ``run`` returned (``rows``, ``sources``,
    ``problems``), ``failed``: ``(file, reason)`` of each file left out, ``dropped``: of each
    file in no output (:func:`~workflows.convert.sources.dropped_sources`: duplicates).
    Raises what ``run`` raised when the failing file cannot be left out.
    """
    failed: list[tuple[str, str]] = []
    while True:
        try:
            rows, sources, problems = run(task, options, written)
            return {
                "rows": tuple(rows),
                "sources": tuple(sources),
                "problems": problems,
                "failed": tuple(failed),
                "dropped": dropped_sources(task.sources, sources, problems),
            }
        except DicomError as err:
            why = _left_out(task, err) if type(err) is DicomError else ""  # not NotAnImage
            if not why:
                raise
            for path in written:  # nothing is written before the pixels are read; to be sure
                Path(path).unlink(missing_ok=True)
            written.clear()
            failed.append((escape_name(err.path), f"{err.reason}; {why} {LEFT_OUT}"))
            task = replace(task, sources=tuple(s for s in task.sources if s != err.path),
                           known=tuple(k for k in task.known if k[0] != err.path),
                           left_out=(*task.left_out, err.path))  # fmt: skip


def _left_out(task: Any, err: DicomError) -> str:
    """Why the series can do without ``err``'s file, ``""`` when it cannot.

    Also ``""`` when the error is no reading failure of one file (a refusal of the series,
    ``--strict``).
    """
    refusal = err.reason.startswith((f"series {task.series_key} refused: ", "refused under "))
    if refusal or err.path not in task.sources or len(task.sources) < 2:
        return ""
    headers = {s: read_header(os.path.join(task.src_root, s), task.src_root)
               for s in task.sources}  # fmt: skip
    bad = headers[err.path]
    place = instance_place(bad) if not isinstance(bad, Problem) else bad.place
    number = instance_number_of(bad) if not isinstance(bad, Problem) else bad.series_number
    others = [h for s, h in headers.items() if s != err.path and not isinstance(h, Problem)]
    failed = Problem(err.path, err.reason, place=place, series_number=number)
    repeats, gap = repeated_slices([failed], others)
    return "" if gap is not None else repeats[err.path]


__all__ = ["run_without_failed"]
