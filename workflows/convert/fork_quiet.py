"""Imported by the process pool's fork server alone (its preload): a worker that cannot start
because the caller already stopped the pool ends quietly.

Ctrl-C while ``radpipe convert --workers N`` started a worker printed, after the caller's
one ``interrupted`` line, a traceback from the worker (``SemLock._rebuild``:
``FileNotFoundError``): the caller had stopped the pool and removed its semaphores while the
fork server's new child was still reading them. Such a child has nothing to report (its pool
is gone; a pool still running learns of it as a broken pool), so it exits with status 1 and
no traceback. Every other error of the fork server goes to Python's own hook, as before.
"""

from __future__ import annotations

import sys
from types import TracebackType

__all__ = ["quiet_hook"]

#: What a child meets when its pool's semaphores or pipes are gone.
_GONE = (FileNotFoundError, EOFError, ConnectionError)


def _starting(tb: TracebackType | None) -> bool:
    """Whether the traceback passes through ``multiprocessing.spawn._main``'s reading of the
    pool's objects (a worker starting, not a worker running a task)."""
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "_main" and code.co_filename.endswith("spawn.py"):
            return True
        tb = tb.tb_next
    return False


def quiet_hook(
    kind: type[BaseException], err: BaseException, tb: TracebackType | None
) -> None:  # fmt: skip
    """``sys.excepthook`` of the fork server (its children call it when they fail to start)."""
    if issubclass(kind, _GONE) and _starting(tb):
        return
    sys.__excepthook__(kind, err, tb)


sys.excepthook = quiet_hook
