"""Interrupts held back while a record is written, so that it is written whole.

An epoch's log line and checkpoint, so that they agree; the salvage after a first Ctrl-C, so
that a second one does not cut it short.

Ctrl-C (SIGINT) and ``radpipe run``'s SIGTERM stop raise ``KeyboardInterrupt`` wherever the
main thread is. Arriving between an epoch's ``log.jsonl`` line and the hand-over of its
checkpoint, it left ``log.jsonl`` an epoch ahead of ``last.pt`` (epoch 4 logged, the stopped
run's checkpoint epoch 3), although the run says it stops with the last finished epoch
written. Within :func:`held_interrupts` such a signal is noted and delivered to the handler
that was in place as soon as the block ends.

The same holds the salvage that follows a first Ctrl-C: ``radpipe convert``'s flush of the
results that finished (:func:`workflows.convert.batch._run_all`) and the write of the held
checkpoints when training stops (:class:`workflows.train.checkpoint.CheckpointWriter`). A
second Ctrl-C, pressed while they were written (the user impatient), stopped them half way
until 2026-12-03: finished conversions and epochs were not recorded, and done again.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["held_interrupts"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def held_interrupts() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver the first that came.

    Only in the main thread (where Python runs signal handlers); elsewhere a no-op. Handlers
    that are not Python callables (``SIG_IGN``, ``SIG_DFL``) are left in place.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[tuple[int, Any]] = []
    held: dict[int, Callable[[int, Any], Any]] = {}
    for s in _SIGNALS:
        handler = signal.getsignal(s)
        if callable(handler):
            held[int(s)] = handler
            signal.signal(s, lambda signum, frame: came.append((signum, frame)))
    try:
        yield
    finally:
        for number, handler in held.items():
            signal.signal(number, handler)
        if came:
            signum, frame = came[0]
            held[int(signum)](signum, frame)
