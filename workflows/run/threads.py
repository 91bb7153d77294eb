"""How many threads torch uses for a run (``compute.threads``, ``radpipe run --threads``).

torch's default (one intra-op thread per core) oversubscribes a machine that also runs
DataLoader worker processes or other ranks, and a busy 2-core machine then trains a small
model about 20 times slower than with one thread (issue 18). The default here divides the
cores this process may use among the processes that compute at the same time: the local
ranks and, for each, the main process plus its DataLoader workers. Each DataLoader worker
runs with one intra-op thread (torch sets it in every worker). Conversion runs before
training, in ``convert.workers`` processes of one thread each, so it does not add to them.

The default depends only on the machine's cores and the config, never on the current load:
the thread count can change float results in the last bits, and the same run must give the
same numbers. A busy machine is reported (a warning suggesting ``--threads 1``) instead.
"""

from __future__ import annotations

import logging
import os
from typing import Any

__all__ = ["MAX_THREADS", "available_cores", "default_threads", "set_threads"]

log = logging.getLogger("radpipe")

#: The most torch threads a run may ask for: ``--threads 99999999`` crashed the process
#: (segmentation fault, exit -11, no message) once its run directory was made.
MAX_THREADS = 1024


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, else ``os.cpu_count``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _omp_threads() -> int | None:
    """``$OMP_NUM_THREADS`` as a positive integer, or ``None`` (unset or not one)."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def default_threads(cores: int, num_workers: int, local_ranks: int = 1) -> int:
    """``cores // (local_ranks * (1 + num_workers))``, at least 1.

    Examples
    --------
    >>> default_threads(8, num_workers=1)
    4
    >>> default_threads(2, num_workers=2)
    1
    """
    return max(1, cores // (max(1, local_ranks) * (1 + max(0, num_workers))))


def set_threads(threads: int | None, num_workers: int, local_ranks: int = 1) -> dict[str, Any]:
    """Set torch's intra-op threads for this process; returns what was chosen and why
    (the ``compute`` entry of ``provenance.json``).

    Parameters
    ----------
    threads
        ``compute.threads``; ``None`` takes ``$OMP_NUM_THREADS`` when it is a positive
        integer, else :func:`default_threads`.
    num_workers
        ``train.num_workers`` (DataLoader worker processes per rank).
    local_ranks
        Training processes on this machine (``LOCAL_WORLD_SIZE`` under torchrun).
    """
    import torch

    cores = available_cores()
    source = "compute.threads" if threads is not None else "default"
    omp = _omp_threads()
    if threads is None and omp is not None:  # the user's standard setting
        threads, source = omp, "OMP_NUM_THREADS"
    chosen = threads if threads is not None else default_threads(cores, num_workers, local_ranks)
    torch.set_num_threads(chosen)
    load = _load_average()
    if threads is None and chosen > 1 and load > cores:
        log.warning(
            "the machine is busy (load average %.1f on %d cores): %d torch threads may train "
            "many times slower than one; try --threads 1 (compute.threads).",
            load,
            cores,
            chosen,
        )
    return {
        "threads": torch.get_num_threads(),
        "threads_from": source,
        "cores": cores,
        "local_ranks": local_ranks,
        "dataloader_workers": num_workers,
        "threads_per_dataloader_worker": 1,
    }
