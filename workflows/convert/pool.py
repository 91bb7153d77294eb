"""The local process pool for batch work, robust to a worker that dies.

A decoder that crashes the process (a segfault in a C codec, the kernel's OOM killer) breaks
a :class:`~concurrent.futures.ProcessPoolExecutor`: every task still queued fails with
``BrokenProcessPool``. Here only a small window of chunks is in flight at a time; when the
pool breaks, the chunks in flight are rerun one task per fresh single-worker pool, so the
task that kills its worker is found and reported through ``on_crash``, and all others
complete. Python-level exceptions never reach this layer (the task function returns them).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from pipeline.keys import SECRET_ENV

T = TypeVar("T")
R = TypeVar("R")


def _chunks(tasks: Iterable[T], size: int, largest: int = 0) -> Iterator[list[T]]:
    """Lists of ``size`` tasks; with ``largest``, each twice the last up to ``largest``."""
    it = iter(tasks)
    while chunk := list(islice(it, size)):
        yield chunk
        size = min(2 * size, max(size, largest))


def _run_chunk(fn: Callable[[T], R], chunk: Sequence[T]) -> list[R]:
    return [fn(task) for task in chunk]


def _tune_malloc() -> None:
    """Keep freed buffers in our own pool's worker processes: fresh pages cost ~3 us each;
    high mmap/trim thresholds took pydicom decoding from about 1,000 to 1,600 files/s on a
    2-core VM. Never called on a user's Dask workers (process-wide, not ours to change)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 * 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 512 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    # not the caller's __main__ (the default); the header reader and task modules (pydicom,
    # numpy; no torch) are imported once by the fork server, so each worker starts warm
    # instead of importing them itself (~0.25 s of CPU per worker); fork_quiet: a worker cut
    # off by the caller's stop while it starts prints no traceback
    context.set_forkserver_preload([__name__, "pipeline.dicom.index", "workflows.convert.tasks",
                                    "workflows.convert.fork_quiet"])  # fmt: skip
    _start_fork_server()
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                               initargs=_caller_state())  # fmt: skip


#: What the project secret is found by (:func:`pipeline.keys.secret_path`).
_SECRET_VARIABLES = (SECRET_ENV, "XDG_CONFIG_HOME", "HOME")


def _caller_state() -> tuple[dict[str, str | None], int]:
    """The caller's settings a worker must share now: the secret's variables and the umask.

    Workers are forked from the fork server, started once per process: without these, a
    worker keeps the environment and umask of that moment, so a secret or umask changed since
    (library use) would give keys of the old secret and files of the old mode.
    """
    return {name: os.environ.get(name) for name in _SECRET_VARIABLES}, _umask()


def _umask() -> int:
    try:  # Linux: read without changing it (no moment with another umask for other threads)
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _start_fork_server() -> None:
    """Start the fork server, if not running, with Ctrl-C ignored (it and its workers).

    A terminal's Ctrl-C (and ``timeout -s INT``) signals the whole process group: a fork server
    still importing its preload printed a ``KeyboardInterrupt`` traceback, and a worker
    interrupted in the pool's queue could leave the caller waiting for it forever after
    ``interrupted``. The caller alone stops the pool (:func:`_stop`). The fork server keeps
    the SIGINT disposition it starts with and gives it to every worker it forks.
    """
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread; the worker initializer still ignores it
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End a pool now (the caller was interrupted or stopped reading): chunks not started are
    cancelled and the workers terminated, not waited for. A file they were writing stays a
    ``.tmp`` file (atomic writes), which a rerun removes and converts again."""
    pool.shutdown(wait=False, cancel_futures=True)
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.terminate()


def _start_worker(environment: dict[str, str | None], mask: int) -> None:
    """A worker takes the caller's settings (:func:`_caller_state`), then tunes malloc.

    Ctrl-C is ignored in it (see :func:`_start_fork_server`), also where the fork server was
    started by other code."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name, value in environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    os.umask(mask)
    _tune_malloc()


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start worker processes (they start in ``submit``) without rerunning the caller's
    script in each of them.

    Python starts a worker by importing the ``__main__`` script (``__file__``) unless it
    runs under ``if __name__ == "__main__":``; a README example pasted into a script would
    then convert again in every worker and break the pool. The workers need nothing from
    ``__main__`` (the task function and tasks are radpipe's), so the script's path is hidden
    while they start. A ``python -m`` module (``__spec__`` set) is left alone.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def map_tasks(
    fn: Callable[[T], R],
    tasks: Iterable[T],
    workers: int = 1,
    on_crash: Callable[[T, str], R] | None = None,
    total: int | None = None,
    largest_chunk: int = 0,
) -> Iterator[R]:
    """Apply ``fn`` to every task, in this process (``workers=1``) or a process pool.

    Results come back in task order. ``fn`` and the tasks must be picklable for workers > 1.
    ``tasks`` may be a generator: it is read a few chunks ahead of the results, never held
    whole (``total``, its length if known, sizes the chunks; a sequence gives its own).
    ``on_crash(task, reason)`` makes the result of a task whose worker process died; without
    it, ``BrokenProcessPool`` is raised. ``largest_chunk``: chunks start at that size and
    double up to this many tasks (short tasks: fewer round trips through the pool, each
    costing the caller's process about as much as reading a few headers). A distributed
    executor fits the same shape (e.g. Dask ``client.map`` + ``as_completed``).
    """
    if total is None and isinstance(tasks, Sized):
        total = len(tasks)
    if workers <= 1 or (total is not None and total <= 1):
        yield from map(fn, tasks)
        return
    size = 16 if total is None else max(1, min(16, total // (workers * 8)))
    lazy = _chunks(tasks, size, largest_chunk)
    held: deque[list[T]] = deque()  # a chunk taken but not yet submitted (the pool broke)
    while True:
        with _pool(workers) as pool:
            try:
                suspects = yield from _drain(pool, fn, lazy, held, workers, on_crash)
            except BaseException:  # Ctrl-C, or the caller stopped reading (GeneratorExit)
                _stop(pool)
                raise
        if suspects is None or on_crash is None:  # suspects come only with on_crash
            return
        for chunk in suspects:
            for task in chunk:
                yield _isolated(fn, task, on_crash)


def _drain(
    pool: ProcessPoolExecutor,
    fn: Callable[[T], R],
    lazy: Iterator[list[T]],
    held: deque[list[T]],
    workers: int,
    on_crash: Callable[[T, str], R] | None,
) -> Generator[R, None, list[list[T]] | None]:
    """Results of the chunks run in ``pool``, a window of them in flight; returns the chunks
    in flight when a worker died (one of them killed it), ``None`` when every task ran."""
    window: deque[tuple[list[T], Future[list[R]]]] = deque()
    ready: deque[R] = deque()  # results of the chunk at hand, not yet given to the caller
    while True:
        try:
            while len(window) < 2 * workers:
                if not held:
                    held.extend(islice(lazy, 1))
                    if not held:
                        break  # every task submitted
                with _main_script_hidden():
                    future = pool.submit(_run_chunk, fn, held[0])
                window.append((held.popleft(), future))
            if not window:
                return None
            future = window[0][1]
            ready.extend(future.result())
            window.popleft()
            while ready:
                yield ready.popleft()
        except BrokenProcessPool:
            if on_crash is None:
                raise
            return [c for c, _ in window]
        except KeyboardInterrupt:  # raised here, or thrown in by the caller (finished_first)
            yield from _finished(pool, ready, window)
            raise


def _finished(
    pool: ProcessPoolExecutor, ready: deque[R], window: deque[tuple[list[T], Future[list[R]]]]
) -> Iterator[R]:
    """On Ctrl-C: the pool stopped, then every result that came back and was not yet given to
    the caller (the rest of the chunk at hand, and chunks finished out of order behind the
    one waited for), so that the caller records them; a chunk still running is not one."""
    done = [f for _, f in window if f.done() and not f.cancelled() and f.exception() is None]
    _stop(pool)
    yield from ready
    for future in done:
        yield from future.result()


def finished_first(results: Iterator[R]) -> Iterator[R]:
    """After Ctrl-C in the caller's own loop over :func:`map_tasks`: the results that had
    come back but were not yet taken (the generator is told of the Ctrl-C and gives them
    before it ends); an iterator that is no generator gives none."""
    throw = getattr(results, "throw", None)
    if throw is None:
        return
    try:
        item = throw(KeyboardInterrupt)
        while True:
            yield item
            item = next(results)
    except (KeyboardInterrupt, StopIteration):
        return


def _isolated(fn: Callable[[T], R], task: T, on_crash: Callable[[T, str], R]) -> R:
    """Run one task alone in a fresh worker; a crash becomes ``on_crash``'s result."""
    with _pool(1) as pool:
        try:
            with _main_script_hidden():
                future = pool.submit(fn, task)
            return future.result()
        except BrokenProcessPool:
            return on_crash(task, "the worker process died while converting this file "
                                  "(a crash in a decoder, or killed for memory)")  # fmt: skip
        except BaseException:  # Ctrl-C: not waited for (the worker ignores it)
            _stop(pool)
            raise


#: The most headers one chunk of :func:`header_mapper` holds: a header takes a worker ~0.1 ms,
#: so chunks of 16 spent a third of the caller's CPU on the pool's round trips.
HEADER_CHUNK = 128


def header_mapper(root: Path, workers: int) -> Callable[..., Iterator[Any]] | None:
    """A ``mapper`` for :func:`pipeline.dicom.index.index_folder`: headers read in processes.

    ``None`` for one worker (read in this process). A worker that dies on a file makes that
    file a problem, not the end of the scan.
    """
    if workers <= 1:
        return None

    def mapper(fn: Callable[[str], Any], paths: Iterable[str]) -> Iterator[Any]:
        return map_tasks(fn, paths, workers, on_crash=partial(_header_crash, root),
                         largest_chunk=HEADER_CHUNK)  # fmt: skip

    return mapper


def _header_crash(root: Path, path: str | Path, reason: str) -> Any:
    from pipeline.dicom.files import Problem
    from pipeline.dicom.header import relative_name

    return Problem(relative_name(path, root), reason.replace("converting", "reading"))


__all__ = ["finished_first", "header_mapper", "map_tasks"]
