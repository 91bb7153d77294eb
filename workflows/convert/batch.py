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
   is skipped when the options are unchanged and the file has not changed since it was
   converted (its stat facts, :mod:`workflows.convert.changes`); everything else is redone.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from pipeline.dicom.files import OUTPUT_MARK, escape_name, find_files
from pipeline.dicom.index import Instance, series_rows, sort_series, write_index_csv
from pipeline.dicom.reuse import reusing
from pipeline.interrupts import held_interrupts
from pipeline.io_atomic import atomic_write_text
from pipeline.lock_holder import holding
from workflows.convert.collect import (
    ConvertResult,
    collect,
    refuse_problem_rows,
    resolve_collisions,
)
from workflows.convert.place import place_series
from workflows.convert.pool import finished_first
from workflows.convert.progress import Progress
from workflows.convert.resume import (
    SIDECARS,
    SOURCES,
    STAT,
    STAT_COLUMNS,
    Partial,
    lacks_columns,
    lacks_sidecars,
    listed_outputs,
    partial_files,
    previous_rows,
    resumable,
    same_source,
    source_key,
    write_csv,
)
from workflows.convert.series_out import remove_sidecars
from workflows.convert.series_plan import (
    StoredPrevious,
    kept_instance,
    plan_series_task,
    read_headers,
)
from workflows.convert.shared_series import shared_sources
from workflows.convert.split_series import mark_series_result, split_notes, split_sources
from workflows.convert.store import Store, scratch_errors
from workflows.convert.tasks import (
    MANIFEST_COLUMNS,
    SOURCE_COLUMNS,
    ConvertOptions,
    ConvertTask,
    TaskResult,
    map_tasks,
    run_task,
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
    """Hold ``OUT/.radpipe-convert.lock`` (``filelock``) for the whole run, its holder in
    ``OUT/.radpipe-convert.holder.json``: a second conversion into the same folder is refused
    at once, naming that process, instead of both deleting each other's temporary files."""

    def busy(holder: str) -> str:
        return (f"another radpipe conversion is writing into {out} ({holder}; it holds "
                f"{LOCK_NAME}): wait for it to finish, or choose another output folder. If "
                "that process was stopped, nothing needs removing: the lock ends with its "
                "process, so run this again.")  # fmt: skip

    with holding(out / LOCK_NAME, busy):
        yield


def convert_folder(
    src: str | Path,
    out: str | Path,
    options: ConvertOptions | None = None,
    progress: bool = True,
    scheduler: str | None = None,
    index_csv: str | Path | None = None,
) -> ConvertResult:
    """Convert every image under ``src`` into ``out`` (see the module docstring).

    Returns a :class:`ConvertResult`; bad files are listed in ``out/errors.csv`` and in
    ``result.failures`` (path relative to ``src``, reason), never raised. ``scheduler``
    (``local:N`` or a Dask address) runs the tasks on Dask distributed instead of the local
    pool (see :mod:`workflows.convert.dask_backend`); the outputs are the same.
    ``index_csv`` also writes the header index (``radpipe inspect --index``'s columns) there.

    Memory: the rows and header facts gathered, and the last run's rows when resuming, wait
    in a scratch SQLite file in ``out`` (:mod:`workflows.convert.store`) and come back one
    series at a time, so memory does not grow with the number of files.

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
        _remove_stale_temporaries(out)
        with Store(out) as store, scratch_errors(store.path), reusing():
            runner = _runner(options, progress, scheduler)
            result = _convert_locked(root, out, options, runner, store, index_csv is not None)
            if index_csv is not None:
                result.index_csv = write_index_csv(index_csv, store.index_rows())
            write_csv(out / "manifest.csv", MANIFEST_COLUMNS, store.sorted_rows())
            if options.per == "series":
                write_csv(out / SOURCES, SOURCE_COLUMNS, store.sorted_sources())
            else:  # a per-series run's, now stale
                (out / SOURCES).unlink(missing_ok=True)
            write_csv(out / STAT, STAT_COLUMNS, store.facts.all_rows())  # after the rows
            result.removed = _remove_unlisted(out, store.unlisted_now())
        _finish(out, result)
    result.seconds = time.perf_counter() - start
    return result


def _convert_locked(
    root: Path, out: Path, options: ConvertOptions, runner: _runner, store: Store, index: bool
) -> ConvertResult:
    # outputs of an earlier conversion of another folder are kept (not ours to judge), and said
    store.add_listed(listed_outputs(out))
    other = 0
    if not same_source(out, root):
        other = store.forget_listed()
    result = ConvertResult(manifest=out / "manifest.csv", errors=out / "errors.csv")
    result.sidecars_redone = lacks_sidecars(out, options, root)
    result.columns_redone = lacks_columns(out, options, root)
    if resumable(out, options, root):
        for rank, rows in previous_rows(out):
            store.add_previous(rows, rank)
        store.facts.load_previous(out)
    else:  # other options, or nothing to resume: earlier partial rows are stale
        for path in partial_files(out):
            path.unlink()
    settings = {**asdict(options), "source_key": source_key(root), "sidecars": SIDECARS}
    atomic_write_text(out / "convert.json", json.dumps(settings, indent=2))
    result.other_source = other
    if options.per == "series":
        _convert_series(root, out, options, result, runner, store, index)
    else:
        _convert_instances(root, out, options, result, runner, store, index)
    result.outputs = store.output_count()
    for key, volumes in store.volume_problems(result.series_files).items():  # each volume's
        result.series_problems[key] = list(dict.fromkeys(p for v in volumes.values() for p in v))
        if len({tuple(v) for v in volumes.values()}) > 1:
            result.volume_problems[key] = volumes
    return result


def _finish(out: Path, result: ConvertResult) -> None:
    """``errors.csv``; partial files and temporaries removed."""
    errors = [{"source": s, "reason": r, "kind": "error"} for s, r in sorted(result.failures)]
    errors += [{"source": s, "reason": r, "kind": "skipped"} for s, r in sorted(result.not_images)]
    write_csv(out / "errors.csv", ERROR_COLUMNS, errors)
    for path in partial_files(out):
        path.unlink(missing_ok=True)
    _remove_stale_temporaries(out)  # left by a worker that died mid-write (never renamed)


def _remove_unlisted(out: Path, stale: Iterable[str]) -> int:
    """Delete outputs of earlier runs that this run's manifest no longer lists (a series that
    split into time points, one that is gone, another format), so that OUT holds exactly
    what the manifest says. Only files radpipe listed itself, inside OUT, are touched (with
    their sidecars, :func:`workflows.convert.series_out.sidecars`), and the folders inside
    OUT (never OUT itself) that they leave empty."""
    removed = 0
    base = out.resolve()
    for name in stale:
        path = (out / name).resolve()
        if path.is_relative_to(base) and path.is_file():
            path.unlink()
            remove_sidecars(path)  # its .bval / .bvec / .json go with it
            removed += 1
            folder = path.parent
            while folder != base and folder.is_relative_to(base) and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
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

    def map(self, tasks: Iterable[ConvertTask], total: int | None = None) -> Iterable[TaskResult]:
        fn = partial(run_task, options=self.options)
        if self.scheduler:
            from workflows.convert.dask_backend import dask_map

            return dask_map(fn, list(tasks), self.scheduler)
        return map_tasks(fn, tasks, self.options.workers, on_crash=_crashed, total=total)


def _crashed(task: ConvertTask, reason: str) -> TaskResult:
    return TaskResult(task.task_id, error=reason, error_source=task.task_id)


def _run_all(
    tasks: Iterable[ConvertTask], total: int, out: Path, store: Store, runner: _runner,
    result: ConvertResult, on_done: Callable[[TaskResult], None],
    task_of: Callable[[str], ConvertTask | None],
    fix: Callable[[TaskResult], TaskResult] = lambda res: res,
) -> None:  # fmt: skip
    """Run the tasks, collecting rows and failures (each result through ``fix`` first);
    flush a partial manifest (and the stat facts of the files it lists) every few hundred
    tasks or seconds, so that a rerun after a kill resumes (per file or series)."""
    partial_rows = Partial(out, _FLUSH_EVERY, _FLUSH_SECONDS, store.facts.rows_of)

    def done(res: TaskResult) -> None:
        on_done(res)
        names = [r["source"] for r in (*res.rows, *res.sources)] + [n for n, _ in res.dropped]
        partial_rows.add(res.rows, res.sources, names)

    results = iter(runner.map(tasks, total))
    try:
        with Progress(runner.progress, total) as advance:
            for res in results:
                collect(fix(res), task_of(res.task_id), result, done)
                advance()
    except KeyboardInterrupt:  # Ctrl-C: what finished is kept, not converted again
        with held_interrupts():  # a second Ctrl-C waits for the record (each file atomic)
            for res in finished_first(results):  # came back while this loop recorded another
                collect(fix(res), task_of(res.task_id), result, done)
            partial_rows.flush()
        raise
    except OSError:  # a full disk (run_task's stops_the_batch): kept if there is room for it
        with suppress(OSError):
            partial_rows.flush()
        raise


def _convert_instances(
    root: Path, out: Path, options: ConvertOptions, result: ConvertResult, runner: _runner,
    store: Store, index: bool,
) -> None:  # fmt: skip
    resume = store.has_previous()
    for found in find_files(root):
        name = escape_name(found.rel)
        result.tasks += 1
        if found.problem is not None:  # unreadable folder, dangling link: an error row
            (result.not_images if found.skipped else result.failures).append((name, found.problem))
            continue
        store.facts.add(name, found.path)  # before anything reads it
        if not (resume and kept_instance(root, out, store, name, found.path, result)):
            store.add_todo(found.rel)

    def converted(res: TaskResult) -> None:
        store.add_rows(res.rows)
        if res.instance is not None:
            store.add_instance(escape_name(res.instance.path), res.instance)

    tasks = (ConvertTask(str(root), str(out), (rel,)) for rel in store.todo())
    _run_all(tasks, store.todo_count(), out, store, runner, result, converted, lambda _: None)
    for res in resolve_collisions(store, root, out, runner, result):
        if res.instance is not None:
            store.add_instance(escape_name(res.instance.path), res.instance)
    split = split_notes(store)  # one acquisition filed under a UID per slice position
    png = options.format.startswith("png")
    for uid in store.series_uids():
        place_series(store, uid, options.policy(), index, split.get(uid), png)
    if options.strict:  # series problems and shared UIDs are known only now
        refuse_problem_rows(store, out, result)


def _convert_series(
    root: Path, out: Path, options: ConvertOptions, result: ConvertResult, runner: _runner,
    store: Store, index: bool,
) -> None:  # fmt: skip
    from workflows.convert.pool import header_mapper

    mapper = None if runner.scheduler else header_mapper(root, options.workers)
    broken = read_headers(root, result, store, mapper)
    shared, split = shared_sources(store, root), split_sources(store)  # notes across series

    def first_ids(uid: str) -> tuple[str, str]:
        first = sort_series(uid, store.instances_of(uid), options.policy()).first
        return first.patient_id, first.study_uid

    store.order_series(first_ids)
    last = StoredPrevious(out, store) if store.has_previous() else None
    plan = partial(plan_series_task, out=out, result=result, store=store, last=last,
                   broken=broken, shared=shared, split=split, strict=options.strict)  # fmt: skip
    for uid in store.ordered_series():  # one series in memory at a time
        _series_tasks(uid, root, out, options, store, index, plan)
    result.tasks = result.skipped + store.task_count()
    in_flight: deque[ConvertTask] = deque()

    def tasks() -> Iterator[ConvertTask]:
        for task in store.tasks():
            in_flight.append(task)
            yield task

    def task_of(task_id: str) -> ConvertTask | None:
        while in_flight:  # results come back in task order
            task = in_flight.popleft()
            if task.task_id == task_id:
                return task
        return None

    def converted(res: TaskResult) -> None:
        store.add_rows(res.rows)
        store.add_sources(res.sources)

    _run_all(tasks(), store.task_count(), out, store, runner, result, converted, task_of,
             partial(mark_series_result, shared=shared, split=split))  # fmt: skip


def _series_tasks(
    uid: str, root: Path, out: Path, options: ConvertOptions, store: Store, index: bool,
    plan: Callable[[ConvertTask, list[Instance]], None],
) -> None:  # fmt: skip
    """Assemble one series from the store, keep its index rows, plan its task."""
    series = sort_series(uid, store.instances_of(uid), options.policy())
    if index:
        store.add_index_rows(uid, series_rows(series))
    for task in series_tasks(series, str(root), str(out)):
        plan(task, series.instances)


__all__ = [
    "MANIFEST_COLUMNS", "ConvertOptions", "ConvertResult", "ConvertTask", "TaskResult",
    "convert_folder", "map_tasks", "run_task",
]  # fmt: skip
