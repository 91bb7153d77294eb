"""Batch work on Dask distributed: the same task functions, another executor.

:func:`dask_map` has the shape of :func:`workflows.convert.tasks.map_tasks`: it applies a
picklable function to picklable tasks and yields the results, here as they complete (the
collector does not depend on order). Tasks are sent in small chunks, so a study of tens of
thousands of files does not become tens of thousands of scheduler tasks.

Failure model: a task function must be idempotent and write its outputs atomically (the
conversion tasks are and do). When a worker dies mid-task, the scheduler runs the task's
chunk again on another worker (up to ``distributed.scheduler.allowed-failures`` times); the
partial temporary file it left is never renamed into place, and each chunk's result is
collected exactly once, so no output is lost or listed twice. Exceptions raised by the
function are retried ``retries`` times, then re-raised here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from pipeline.errors import ConfigError, RadpipeError

T = TypeVar("T")
R = TypeVar("R")

_LOCAL = re.compile(r"^local(?::(\d+))?$")
CONNECT_TIMEOUT_S = 10.0


def parse_scheduler(scheduler: str) -> int | None:
    """``local:N`` -> ``N`` (``local`` alone -> 2); an address -> ``None``.

    Raises
    ------
    ConfigError
        ``local:N`` with ``N < 1``, or an empty address.
    """
    text = scheduler.strip()
    match = _LOCAL.match(text)
    if (text == "local" or text.startswith("local:")) and match is None:
        raise ConfigError(
            f"The scheduler must be 'local:N' (N workers) or a Dask address such as "
            f"'tcp://host:8786'; got {scheduler!r}."
        )
    if match is not None:
        workers = int(match.group(1) or 2)
        if workers < 1:
            raise ConfigError(f"The scheduler 'local:N' needs N >= 1; got {scheduler!r}.")
        return workers
    if not text:
        raise ConfigError("The scheduler address is empty.")
    return None


@contextmanager
def dask_client(scheduler: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler``; a ``local:N`` cluster lives as long as it.

    ``local:N`` starts ``LocalCluster(n_workers=N, threads_per_worker=1, processes=True)``
    with the dashboard disabled; nothing listens beyond the loopback interface.
    """
    from distributed import Client, LocalCluster

    workers = parse_scheduler(scheduler)
    if workers is not None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        )
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler.strip(), timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        raise RadpipeError(
            f"Could not reach the Dask scheduler at {scheduler!r} within "
            f"{CONNECT_TIMEOUT_S:g} s ({type(err).__name__}: {err})."
        ) from None
    with client:
        yield client


def _run_chunk(fn: Callable[[T], R], chunk: Sequence[T]) -> list[R]:
    return [fn(task) for task in chunk]


def chunk_size(tasks: int, workers: int) -> int:
    """Tasks per Dask task: about 8 chunks per worker, at most 16 tasks each (as the pool)."""
    return max(1, min(16, tasks // max(1, workers * 8)))


def dask_map(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    scheduler: str,
    *,
    retries: int = 2,
    chunk: int | None = None,
) -> Iterator[R]:
    """Apply ``fn`` to every task on a Dask cluster; yield results as chunks complete.

    Parameters
    ----------
    fn
        A picklable, idempotent function (e.g. ``partial(run_task, options=...)``).
    tasks
        Picklable tasks.
    scheduler
        ``local:N`` (a fresh ``LocalCluster`` with N single-threaded worker processes) or
        the address of a running scheduler (``tcp://host:8786``); the workers there must be
        able to import radpipe.
    retries
        How often a chunk whose function *raised* is tried again before the error is
        re-raised here. (Chunks lost with a dead worker are rescheduled by Dask itself.)
    chunk
        Tasks per Dask task (default: :func:`chunk_size`).

    Yields
    ------
    Each task's result exactly once, in completion order.
    """
    if not tasks:
        return
    from distributed import as_completed

    with dask_client(scheduler) as client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        size = chunk or chunk_size(len(tasks), workers)
        chunks = [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]
        futures = client.map(partial(_run_chunk, fn), chunks, retries=retries, pure=False)
        try:
            for future in as_completed(futures):
                yield from future.result()
                future.release()
        finally:
            client.cancel(futures)


__all__ = ["chunk_size", "dask_client", "dask_map", "parse_scheduler"]
