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
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.dicom.index import (
    DicomIndex,
    Instance,
    Problem,
    assemble_series,
    index_folder,
    iter_files,
    read_header,
)
from pipeline.io_atomic import atomic_path, atomic_write_text
from workflows.convert.tasks import (
    MANIFEST_COLUMNS,
    ConvertOptions,
    ConvertTask,
    TaskResult,
    map_tasks,
    run_task,
    series_output,
    series_tasks,
)

ERROR_COLUMNS = ["source", "reason"]
_FLUSH_EVERY = 500
_PARTIAL = ".manifest.partial.csv"


@dataclass
class ConvertResult:
    """Counts and paths of one :func:`convert_folder` call; ``index`` lists the series."""

    tasks: int = 0
    converted: int = 0
    skipped: int = 0
    outputs: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    manifest: Path | None = None
    errors: Path | None = None
    seconds: float = 0.0
    index: DicomIndex | None = None
    series_problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def problem_counts(self) -> dict[str, int]:
        """Series per kind of problem (``"resampled"``, ``"split"``, ``"tilt corrected"``...)."""
        counts: dict[str, int] = {}
        for problems in self.series_problems.values():
            for kind in dict.fromkeys(p.split(":", 1)[0] for p in problems):
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    @property
    def refused(self) -> int:
        """Series refused (listed in ``errors.csv`` with ``refused:`` in the reason)."""
        return sum(" refused: " in reason for _, reason in self.failures)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def exit_code(self) -> int:
        return 0 if not self.failures else 1


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, str]]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _previous_rows(out: Path, options: ConvertOptions) -> dict[str, list[dict[str, str]]]:
    """Rows of the last run by source, if it used the same format, window and layout."""
    settings = out / "convert.json"
    if not options.resume or not settings.exists():
        return {}
    saved = json.loads(settings.read_text())
    keys = ("format", "window", "per", "tilt", "uneven", "split_4d")
    if any(saved.get(k) != getattr(options, k) for k in keys):
        return {}
    by_source: dict[str, list[dict[str, str]]] = {}
    for name in ("manifest.csv", _PARTIAL):
        for row in _read_csv(out / name):
            by_source.setdefault(row["source"], [])
            if row["output"] not in {r["output"] for r in by_source[row["source"]]}:
                by_source[row["source"]].append(row)
    return by_source


def _complete(out: Path, rows: list[dict[str, str]] | None) -> bool:
    return bool(rows) and all((out / r["output"]).is_file() for r in rows or [])


def _remove_stale_temporaries(out: Path) -> None:
    for path in out.rglob(".*.tmp*"):
        if path.is_file():
            path.unlink(missing_ok=True)


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
    previous = _previous_rows(out, options)
    _remove_stale_temporaries(out)
    atomic_write_text(out / "convert.json", json.dumps(asdict(options), indent=2))
    result = ConvertResult(manifest=out / "manifest.csv", errors=out / "errors.csv")
    runner = _runner(options, progress, scheduler)
    if options.per == "series":
        rows = _convert_series(root, out, options, previous, result, runner)
    else:
        rows = _convert_instances(root, out, options, previous, result, runner)
    result.outputs = len(rows)
    for row in rows:
        if row.get("problems"):
            result.series_problems.setdefault(row["series_key"], row["problems"].split("; "))
    _write_csv(out / "manifest.csv", MANIFEST_COLUMNS, _sorted(rows))
    errors = [{"source": s, "reason": r} for s, r in sorted(result.failures)]
    _write_csv(out / "errors.csv", ERROR_COLUMNS, errors)
    (out / _PARTIAL).unlink(missing_ok=True)
    _remove_stale_temporaries(out)  # left by a worker that died mid-write (never renamed)
    result.seconds = time.perf_counter() - start
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
        return map_tasks(fn, tasks, self.options.workers)


def _run_all(
    tasks: list[ConvertTask], out: Path, runner: _runner, result: ConvertResult,
    rows: list[dict[str, str]],
) -> list[TaskResult]:  # fmt: skip
    """Run the tasks, collecting rows and failures; flush a partial manifest now and then."""
    done: list[TaskResult] = []
    with _progress(runner.progress, len(tasks)) as advance:
        for n, res in enumerate(runner.map(tasks), 1):
            if res.error is not None:
                result.failures.append((res.task_id, res.error))
            else:
                rows += res.rows
                result.converted += 1
                done.append(res)
            advance()
            if n % _FLUSH_EVERY == 0:
                _write_csv(out / _PARTIAL, MANIFEST_COLUMNS, rows)
    return done


def _convert_instances(
    root: Path, out: Path, options: ConvertOptions, previous: dict[str, list[dict[str, str]]],
    result: ConvertResult, runner: _runner,
) -> list[dict[str, str]]:  # fmt: skip
    tasks, rows, instances = [], [], []
    for path in iter_files(root):
        rel = path.relative_to(root).as_posix()
        header = read_header(path, root) if _complete(out, previous.get(rel)) else None
        if isinstance(header, Instance):  # finished earlier: keep its rows
            rows += _as_ranks(previous[rel])
            instances.append(header)
            result.skipped += 1
        else:
            tasks.append(ConvertTask(src_root=str(root), out_root=str(out), sources=(rel,)))
    result.tasks = result.skipped + len(tasks)
    done = _run_all(tasks, out, runner, result, rows)
    instances += [res.instance for res in done if res.instance is not None]
    series = assemble_series(instances, options.policy())
    result.index = DicomIndex(root, series, [Problem(s, r) for s, r in result.failures],
                              files_scanned=result.tasks)  # fmt: skip
    return _with_slice_indices(_unique_outputs(rows), series)


def _as_ranks(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """A file's frames have ranks 0..F-1, so rank = slice_index - min(slice_index)."""
    base = min(int(r["slice_index"]) for r in rows)
    return [{**r, "slice_index": str(int(r["slice_index"]) - base)} for r in rows]


def _unique_outputs(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One row per output file: a file present twice (same SOPInstanceUID) writes one output."""
    seen: dict[str, dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: (r["source"], int(r["frame"] or 0))):
        seen.setdefault(row["output"], row)
    return list(seen.values())


def _with_slice_indices(rows: list[dict[str, str]], series: list[Any]) -> list[dict[str, str]]:
    """Place each row in its assembled volume (``volume``, ``slice_index`` along the normal,
    ``num_slices``, ``slice_spacing``) and give it its series' ``problems``.

    Rows of images in no volume (a refused series, a mosaic) keep their rank within the file.
    """
    place: dict[tuple[str, int], tuple[int, int, int, str]] = {}
    notes: dict[str, str] = {}
    for s in series:
        notes[s.first.path] = "; ".join(s.problems)
        for inst in s.instances:
            notes[inst.path] = notes[s.first.path]
        plan = s.plan
        v = 0
        for volume in plan.volumes if plan is not None else []:
            even = volume.affine is not None and volume.grid is None and not volume.sheared
            step = f"{volume.spacing[0]:g}" if even and len(volume.frames[0]) > 1 else ""
            for frames in volume.frames:
                for k, idx in enumerate(frames):
                    ref = plan.frames[idx]
                    if ref.mosaic:
                        notes[ref.source] = "mosaic written undivided (--per series demosaics it)"
                    else:
                        place.setdefault((ref.source, ref.frame), (v, k, len(frames), step))
                v += 1
    fixed = []
    for row in rows:
        where = place.get((row["source"], int(row["frame"] or 0)))
        if where is None:
            fixed.append({**row, "problems": notes.get(row["source"], "")})
            continue
        v, k, count, step = where
        fixed.append({**row, "slice_index": str(k), "num_slices": str(count), "volume": str(v),
                      "slice_spacing": step, "problems": notes.get(row["source"], "")})  # fmt: skip
    return fixed


def _convert_series(
    root: Path, out: Path, options: ConvertOptions, previous: dict[str, list[dict[str, str]]],
    result: ConvertResult, runner: _runner,
) -> list[dict[str, str]]:  # fmt: skip
    index = index_folder(root, options.policy())
    result.index = index
    result.failures += [(p.where, p.reason) for p in index.problems]
    rows: list[dict[str, str]] = []
    tasks = []
    for task in (t for s in index.series for t in series_tasks(s, str(root), str(out))):
        old = previous.get(task.task_id)
        prefix = series_output(task.patient_key, task.series_key, options.format).split(".")[0]
        if old and _complete(out, old) and all(r["output"].startswith(prefix) for r in old):
            rows += old
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
