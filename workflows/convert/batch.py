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

import csv
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.dicom.files import escape_name, find_files
from pipeline.dicom.index import (
    DicomIndex,
    Instance,
    Problem,
    assemble_series,
    index_folder,
    read_header,
)
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path, atomic_write_text
from workflows.convert.collect import (
    ConvertResult,
    as_ranks,
    collect,
    resolve_collisions,
    with_slice_indices,
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
_PARTIAL = ".manifest.partial.csv"
_PARTIAL_SOURCES = ".sources.partial.csv"
SOURCES = "sources.csv"
LOCK_NAME = ".radpipe-convert.lock"


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, str]]) -> None:
    # Names are escaped already (escape_name); backslashreplace guards anything else.
    with atomic_path(path) as tmp, tmp.open("w", newline="", errors="backslashreplace") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _previous_rows(out: Path, options: ConvertOptions) -> dict[str, list[dict[str, str]]]:
    """Rows of the last run by source, if it used the same format, window and layout."""
    settings = out / "convert.json"
    if not options.resume or not settings.exists():
        return {}
    saved = json.loads(settings.read_text())
    keys = ("format", "window", "per", "tilt", "uneven", "split_4d", "gzip")
    if any(saved.get(k) != getattr(options, k) for k in keys):
        return {}
    by_source: dict[str, list[dict[str, str]]] = {}
    for name in ("manifest.csv", _PARTIAL):
        for row in _read_csv(out / name):
            by_source.setdefault(row["source"], [])
            if row["output"] not in {r["output"] for r in by_source[row["source"]]}:
                by_source[row["source"]].append(row)
    return by_source


def _previous_series(out: Path, options: ConvertOptions) -> _Previous:
    """What the last per-series run finished, if it used the same options."""
    if not _previous_rows(out, options):
        return _Previous({}, {}, {})
    manifest = {
        r["output"]: r for name in ("manifest.csv", _PARTIAL) for r in _read_csv(out / name)
    }
    by_source: dict[str, list[dict[str, str]]] = {}
    for name in (SOURCES, _PARTIAL_SOURCES):
        for row in _read_csv(out / name):
            if row not in by_source.setdefault(row["source"], []):
                by_source[row["source"]].append(row)
    skips = {r["source"]: r["reason"] for r in _read_csv(out / "errors.csv")
             if r.get("kind") == "skipped"}  # fmt: skip
    return _Previous(manifest, by_source, skips)


@dataclass(frozen=True)
class _Previous:
    """The last run's manifest rows by output, sources.csv rows by file, skipped files."""

    manifest: dict[str, dict[str, str]]
    sources: dict[str, list[dict[str, str]]]
    skips: dict[str, str]

    def series(self, task: ConvertTask) -> tuple[list[dict[str, str]], list[dict[str, str]],
                                                 list[tuple[str, str]]]:  # fmt: skip
        """The manifest and sources.csv rows of a series whose every file was converted or
        skipped last time, into outputs made of exactly these files; else nothing."""
        names = [escape_name(s) for s in task.sources]
        sources = [r for n in names for r in self.sources.get(n, [])]
        dropped = [(n, self.skips[n]) for n in names if n not in self.sources and n in self.skips]
        outputs = {r["output"] for r in sources}
        members = {r["source"] for rows in self.sources.values() for r in rows
                   if r["output"] in outputs}  # fmt: skip
        complete = len({r["source"] for r in sources}) + len(dropped) == len(names)
        if not (complete and outputs and members <= set(names)):
            return [], [], []
        if any(o not in self.manifest for o in outputs):
            return [], [], []
        return [self.manifest[o] for o in sorted(outputs)], sources, dropped


def _complete(out: Path, rows: list[dict[str, str]] | None) -> bool:
    return bool(rows) and all((out / r["output"]).is_file() for r in rows or [])


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
    previous = _previous_rows(out, options)
    _remove_stale_temporaries(out)
    atomic_write_text(out / "convert.json", json.dumps(asdict(options), indent=2))
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
    _write_csv(out / "manifest.csv", MANIFEST_COLUMNS, _sorted(rows))
    if options.per == "series":
        order = sorted(result.sources, key=lambda r: (r["patient_key"], r["series_key"],
                                                      r["output"], r["source"]))  # fmt: skip
        _write_csv(out / SOURCES, SOURCE_COLUMNS, order)
    errors = [{"source": s, "reason": r, "kind": "error"} for s, r in sorted(result.failures)]
    errors += [{"source": s, "reason": r, "kind": "skipped"} for s, r in sorted(result.not_images)]
    _write_csv(out / "errors.csv", ERROR_COLUMNS, errors)
    (out / _PARTIAL).unlink(missing_ok=True)
    (out / _PARTIAL_SOURCES).unlink(missing_ok=True)
    _remove_stale_temporaries(out)  # left by a worker that died mid-write (never renamed)
    return result


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
    with _progress(runner.progress, len(tasks)) as advance:
        for n, res in enumerate(runner.map(tasks), 1):
            collect(res, by_id.get(res.task_id), result, rows, done)
            advance()
            if n % _FLUSH_EVERY == 0 or time.monotonic() - last_flush > _FLUSH_SECONDS:
                _write_csv(out / _PARTIAL, MANIFEST_COLUMNS, rows)
                if result.sources:
                    _write_csv(out / _PARTIAL_SOURCES, SOURCE_COLUMNS, result.sources)
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
            result.failures.append((name, found.problem))
            continue
        old = previous.get(name)
        header = read_header(found.path, root) if _complete(out, old) else None
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
    last = _previous_series(out, options) if previous else _Previous({}, {}, {})
    for task in (t for s in index.series for t in series_tasks(s, str(root), str(out))):
        old, sources, dropped = last.series(task)
        prefix = series_output(task.patient_key, task.series_key, "npy").split(".")[0]
        if old and _complete(out, old) and all(r["output"].startswith(prefix) for r in old):
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
