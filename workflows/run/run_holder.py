"""Who holds a run directory: the process that trains it, said by pid, host and start time.

``radpipe run`` holds ``RUN/.radpipe-run.lock`` while it prepares, trains and evaluates
(:func:`workflows.run.rundir.hold_run`) and records itself beside it in
``RUN/.radpipe-run.holder.json``. Until 2026-12-03 ``radpipe predict`` (and ``evaluate``) of
a run still training advised ``radpipe run --resume RUN``, which the lock then refused: the
advice now follows the state, and a refused resume says which process holds the run.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import suppress
from pathlib import Path

__all__ = ["HOLDER", "RUN_LOCK", "clear_holder", "held_by", "record_holder"]

RUN_LOCK = ".radpipe-run.lock"
#: Beside the lock (whose file ``filelock`` may empty on every attempt to take it).
HOLDER = ".radpipe-run.holder.json"


def record_holder(run_dir: Path) -> None:
    """Write this process's pid, host and start time (UTC) to ``RUN/HOLDER``; a run directory
    that cannot be written to is left without it (the lock alone still refuses a second
    process)."""
    from pipeline.io_atomic import atomic_write_text

    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    record = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
    with suppress(OSError):
        atomic_write_text(run_dir / HOLDER, json.dumps(record))


def clear_holder(run_dir: Path) -> None:
    with suppress(OSError):
        (run_dir / HOLDER).unlink()


def holder_words(run_dir: Path) -> str:
    """``pid 123 on host h since 2026-12-03 15:40:00 UTC`` from ``RUN/HOLDER``, or ``another
    process`` when it is missing or unreadable (a run of an older radpipe)."""
    try:
        record = json.loads((run_dir / HOLDER).read_text())
        return f"pid {int(record['pid'])} on host {record['host']} since {record['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def held_by(run_dir: Path) -> str | None:
    """:func:`holder_words` when another process holds ``RUN/.radpipe-run.lock`` now, else
    ``None``.

    Probing takes the lock for a moment (a lock file cannot be asked without trying it), so
    callers ask only where a run looks unfinished; a lock file that is not there, or that
    cannot be opened (a read-only copy of a run), is not held.
    """
    from filelock import FileLock, Timeout

    path = run_dir / RUN_LOCK
    if not path.is_file():
        return None
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return holder_words(run_dir)
    except OSError:
        return None
    lock.release()
    return None
