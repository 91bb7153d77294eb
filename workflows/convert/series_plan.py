"""Planning a per-series conversion: every header into the store, then one task per series.

:func:`read_headers` reads the headers (in worker processes when a ``mapper`` is given) into
the scratch store and records the files that are no usable image; :func:`plan_series_task`
decides, for each assembled series, whether it is refused (a file of it failed), kept from the
last run, or converted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.dicom.files import escape_name, find_files
from pipeline.dicom.index import Instance, Problem, read_header
from workflows.convert.collect import ConvertResult
from workflows.convert.resume import Previous, complete
from workflows.convert.store import Store
from workflows.convert.tasks import ConvertTask, series_output


def read_headers(
    root: Path, result: ConvertResult, store: Store, mapper: Callable[..., Iterator[Any]] | None
) -> dict[str, str]:
    """Every file's header into the store (problems into ``result``, in the order found);
    returns ``{series_key: file}`` of series with a file that failed (see
    :meth:`~pipeline.dicom.index.DicomIndex.failed_by_series`)."""
    problems: list[tuple[int, Problem]] = []
    numbers: deque[int] = deque()

    def readable() -> Iterator[Path]:
        for n, found in enumerate(find_files(root)):
            if found.problem:
                problems.append((n, Problem(found.rel, found.problem, skipped=found.skipped)))
            else:
                numbers.append(n)
                yield found.path

    read = partial(read_header, root=root)
    for header in (mapper or map)(read, readable()):
        n = numbers.popleft()
        if isinstance(header, Instance):
            store.add_instance(escape_name(header.path), header)
        else:
            problems.append((n, header))
    broken: dict[str, str] = {}
    for _, p in sorted(problems, key=lambda item: item[0]):
        (result.not_images if p.skipped else result.failures).append(
            (escape_name(p.where), p.reason)
        )
        if p.series_key:
            broken[p.series_key] = escape_name(p.where)
    return broken


def plan_series_task(
    task: ConvertTask, out: Path, result: ConvertResult, store: Store, last: Previous,
    broken: dict[str, str],
) -> None:  # fmt: skip
    """A series' task is refused (a file of it failed), kept from the last run, or queued."""
    if task.series_key in broken:  # a volume without the failed file would be wrong
        reason = f"not converted: its series failed on {broken[task.series_key]}"
        result.failures += [(escape_name(source), reason) for source in task.sources]
        return
    old, sources, dropped = last.series(task)
    prefix = series_output(task.patient_key, task.series_key, "npy").split(".")[0]
    if old and complete(out, old) and all(r["output"].startswith(prefix) for r in old):
        store.add_rows(old)
        store.add_sources(sources)
        result.not_images += dropped
        result.skipped += 1
    else:
        store.add_task(task)


__all__ = ["plan_series_task", "read_headers"]
