"""Batch DICOM conversion: plan -> run tasks (in workers) -> collect, resumable.

The engine has four parts, so that a distributed executor can replace the process pool:

1. Plan: small, picklable :class:`ConvertTask` objects, one per file (``per="instance"``;
   no header pass is needed) or one per series (``per="series"``, after a header-only index).
2. :func:`run_task` (in :mod:`workflows.convert.tasks`), a pure top-level function: reads a
   file once, converts it, writes the outputs atomically *in the worker* and returns only
   manifest rows and header facts, or an error.
3. :func:`map_tasks`, the executor seam (in-process or a process pool).
4. :func:`convert_folder`, the collector: it orders each series along its normal from the
   returned header facts, fills ``slice_index``/``num_slices`` and writes ``manifest.csv``
   and ``errors.csv`` atomically. Resume: a file whose outputs all exist and are listed in
   the previous manifest (or the hidden partial manifest flushed every few hundred files)
   is skipped when the options are unchanged; everything else is redone.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.dicom.files import OUTPUT_MARK, escape_name, find_files
from pipeline.dicom.index import (
    DicomIndex,
    Instance,
    Problem,
    assemble_series,
    index_folder,
    read_header,
)
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from workflows.convert.collect import (
    ConvertResult,
    as_ranks,
    collect,
    resolve_collisions,
    with_slice_indices,
)
from workflows.convert.resume import (
    PARTIAL,
    PARTIAL_SOURCES,
    SOURCES,
    Previous,
    complete,
    flush,
    listed_outputs,
    parts,
    previous_rows,
    previous_series,
    same_source,
    source_key,
    write_csv,
)
from workflows.convert.tasks import (
    MANIFEST_COLUMNS,
    SOURCE_COLUMNS,
    ConvertOptions,
    ConvertTask,
    TaskResult,
    map_tasks,
    run_task,
    series_output,
    series_tasks,
)

ERROR_COLUMNS = ["source", "reason", "kind"]
_FLUSH_EVERY = 500
_FLUSH_SECONDS = 2.0
LOCK_NAME = OUTPUT_MARK  # also marks OUT as output, never read as input


def _remove_stale_temporaries(out: Path) -> None:
    """Remove temporaries of a run that died; safe because the lock on OUT is held."""
    for path in out.rglob(".*.tmp*"):
        if path.is_file():
            path.unlink(missing_ok=True)


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold ``OUT/.radpipe-convert.lock`` (the ``filelock`` package) for the whole run.

    A second conversion into the same folder is refused at once with a clear message
    instead of both deleting each other's temporary files.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(out / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RadpipeError(
            f"another radpipe conversion is writing into {out} (it holds {LOCK_NAME}); "
            "wait for it to finish or choose another output folder."
        ) from None
    try:
        yield
    finally:
        lock.release()


def convert_folder(
    src: str | Path,
    out: str | Path,
    options: ConvertOptions | None = None,
    progress: bool = True,
    scheduler: str | None = None,
) -> ConvertResult:
    """Convert every image under ``src`` into ``out`` (see the module docstring).

    Returns a :class:`ConvertResult`; bad files are listed in ``out/errors.csv`` and in
    ``result.failures`` (path relative to ``src``, reason), never raised. ``scheduler``
    (``local:N`` or a Dask address) runs the tasks on Dask distributed instead of the local
    pool (see :mod:`workflows.convert.dask_backend`); the outputs are the same.

    Examples
    --------
    >>> result = convert_folder("scans/", "png/", ConvertOptions(window="lung"))  # doctest: +SKIP
    >>> result.exit_code, result.outputs  # doctest: +SKIP
    (0, 1200)
    """
    start = time.perf_counter()
    options = (options or ConvertOptions()).resolved()
    root, out = Path(src), Path(out)
    if not root.is_dir():
        raise NotADirectoryError(f"{src}: not a folder.")
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        result = _convert_locked(root, out, options, progress, scheduler)
    result.seconds = time.perf_counter() - start
    return result


def _convert_locked(
    root: Path, out: Path, options: ConvertOptions, progress: bool, scheduler: str | None
) -> ConvertResult:
    # outputs of an earlier conversion of another folder are kept (not ours to judge), and said
    same = same_source(out, root)
    listed_before = listed_outputs(out) if same else set()
    result_other = 0 if same else len(listed_outputs(out))
    previous = previous_rows(out, options, root)
    if not previous:  # other options, or nothing to resume: earlier partial rows are stale
        for path in [*parts(out, PARTIAL), *parts(out, PARTIAL_SOURCES)]:
            path.unlink()
    _remove_stale_temporaries(out)
    settings = {**asdict(options), "source_key": source_key(root)}
    atomic_write_text(out / "convert.json", json.dumps(settings, indent=2))
    result = ConvertResult(manifest=out / "manifest.csv", errors=out / "errors.csv")
    runner = _runner(options, progress, scheduler)
    if options.per == "series":
        rows = _convert_series(root, out, options, previous, result, runner)
    else:
        rows = _convert_instances(root, out, options, previous, result, runner)
    result.outputs = len({r["output"] for r in rows})
    for row in rows:
        if row.get("problems"):
            result.series_problems.setdefault(row["series_key"], row["problems"].split("; "))
    write_csv(out / "manifest.csv", MANIFEST_COLUMNS, _sorted(rows))
    if options.per == "series":
        # a stable sort: each volume's rows stay in slice order
        order = sorted(
            result.sources, key=lambda r: (r["patient_key"], r["series_key"], r["output"])
        )
        write_csv(out / SOURCES, SOURCE_COLUMNS, order)
    else:
        (out / SOURCES).unlink(missing_ok=True)  # a per-series run's, now stale
    errors = [{"source": s, "reason": r, "kind": "error"} for s, r in sorted(result.failures)]
    errors += [{"source": s, "reason": r, "kind": "skipped"} for s, r in sorted(result.not_images)]
    write_csv(out / "errors.csv", ERROR_COLUMNS, errors)
    for path in [*parts(out, PARTIAL), *parts(out, PARTIAL_SOURCES)]:
        path.unlink(missing_ok=True)
    _remove_stale_temporaries(out)  # left by a worker that died mid-write (never renamed)
    result.removed = _remove_unlisted(out, listed_before - {r["output"] for r in rows})
    result.other_source = result_other
    return result


def _remove_unlisted(out: Path, stale: set[str]) -> int:
    """Delete outputs of earlier runs that this run's manifest no longer lists (a series that
    split into time points, one that is gone, another format), so that OUT holds exactly
    what the manifest says. Only files radpipe listed itself, inside OUT, are touched."""
    removed = 0
    base = out.resolve()
    for name in sorted(stale):
        path = (out / name).resolve()
        if path.is_relative_to(base) and path.is_file():
            path.unlink()
            removed += 1
    return removed


@dataclass(frozen=True)
class _runner:
    """How tasks run: the local pool (``map_tasks``) or Dask (``scheduler`` set)."""

    options: ConvertOptions
    progress: bool
    scheduler: str | None

    def __post_init__(self) -> None:
        if self.scheduler:
            from workflows.convert.dask_backend import parse_scheduler

            parse_scheduler(self.scheduler)  # a bad value fails before any work

    def map(self, tasks: list[ConvertTask]) -> Iterable[TaskResult]:
        fn = partial(run_task, options=self.options)
        if self.scheduler:
            from workflows.convert.dask_backend import dask_map

            return dask_map(fn, tasks, self.scheduler)
        return map_tasks(fn, tasks, self.options.workers, on_crash=_crashed)


def _crashed(task: ConvertTask, reason: str) -> TaskResult:
    return TaskResult(task.task_id, error=reason, error_source=task.task_id)


def _run_all(
    tasks: list[ConvertTask], out: Path, runner: _runner, result: ConvertResult,
    rows: list[dict[str, str]],
) -> list[TaskResult]:  # fmt: skip
    """Run the tasks, collecting rows and failures; flush a partial manifest every few
    hundred tasks or seconds, so that a rerun after a kill resumes (per file or series)."""
    done: list[TaskResult] = []
    by_id = {t.task_id: t for t in tasks}
    last_flush = time.monotonic()
    flushed = [len(rows), len(result.sources)]
    with _progress(runner.progress, len(tasks)) as advance:
        for n, res in enumerate(runner.map(tasks), 1):
            collect(res, by_id.get(res.task_id), result, rows, done)
            advance()
            if n % _FLUSH_EVERY == 0 or time.monotonic() - last_flush > _FLUSH_SECONDS:
                flushed = flush(out, rows, result.sources, flushed)
                last_flush = time.monotonic()
    return done


def _convert_instances(
    root: Path, out: Path, options: ConvertOptions, previous: dict[str, list[dict[str, str]]],
    result: ConvertResult, runner: _runner,
) -> list[dict[str, str]]:  # fmt: skip
    tasks: list[ConvertTask] = []
    rows: list[dict[str, str]] = []
    instances: dict[str, Instance] = {}
    for found in find_files(root):
        name = escape_name(found.rel)
        result.tasks += 1
        if found.problem is not None:  # unreadable folder, dangling link: an error row
            (result.not_images if found.skipped else result.failures).append((name, found.problem))
            continue
        old = previous.get(name)
        header = read_header(found.path, root) if complete(out, old) else None
        if isinstance(header, Instance) and old:  # finished earlier: keep its rows
            rows += as_ranks(old)
            instances[name] = header
            result.skipped += 1
        else:
            tasks.append(ConvertTask(src_root=str(root), out_root=str(out), sources=(found.rel,)))
    done = _run_all(tasks, out, runner, result, rows)
    rows, redone = resolve_collisions(rows, root, out, runner, result)
    for res in [*done, *redone]:
        if res.instance is not None:
            instances[escape_name(res.instance.path)] = res.instance
    series = assemble_series(instances.values(), options.policy())
    problems = [Problem(s, r) for s, r in result.failures]
    problems += [Problem(s, r, skipped=True) for s, r in result.not_images]
    result.index = DicomIndex(root, series, problems, files_scanned=result.tasks)
    return with_slice_indices(rows, series)


def _convert_series(
    root: Path, out: Path, options: ConvertOptions, previous: dict[str, list[dict[str, str]]],
    result: ConvertResult, runner: _runner,
) -> list[dict[str, str]]:  # fmt: skip
    from workflows.convert.pool import header_mapper

    mapper = None if runner.scheduler else header_mapper(root, options.workers)
    index = index_folder(root, options.policy(), mapper=mapper)
    result.index = index
    for p in index.problems:
        (result.not_images if p.skipped else result.failures).append(
            (escape_name(p.where), p.reason)
        )
    rows: list[dict[str, str]] = []
    tasks = []
    last = previous_series(out) if previous else Previous({}, {}, {}, {})
    broken = index.failed_by_series()
    for task in (t for s in index.series for t in series_tasks(s, str(root), str(out))):
        if task.series_key in broken:  # a volume without the failed file would be wrong
            reason = f"not converted: its series failed on {broken[task.series_key]}"
            result.failures += [(escape_name(source), reason) for source in task.sources]
            continue
        old, sources, dropped = last.series(task)
        prefix = series_output(task.patient_key, task.series_key, "npy").split(".")[0]
        if old and complete(out, old) and all(r["output"].startswith(prefix) for r in old):
            rows += old
            result.sources += sources
            result.not_images += dropped
            result.skipped += 1
        else:
            tasks.append(task)
    result.tasks = result.skipped + len(tasks)
    _run_all(tasks, out, runner, result, rows)
    return rows


def _sorted(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(rows, key=lambda r: (r["patient_key"], r["series_key"], r["output"]))


class _progress:
    """A rich progress bar on a terminal; silent otherwise or when disabled."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and sys.stderr.isatty() and total > 0
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> Callable[[], None]:
        if not self.enabled:
            return lambda: None
        from rich.progress import Progress

        self.bar = Progress(transient=False)
        self.bar.start()
        task = self.bar.add_task("converting", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


__all__ = [
    "MANIFEST_COLUMNS", "ConvertOptions", "ConvertResult", "ConvertTask", "TaskResult",
    "convert_folder", "map_tasks", "run_task",
]  # fmt: skip
