"""A task function for the pool tests, in a module that imports nothing heavy (fast workers)."""

from __future__ import annotations

import os


def die_on_three(task: int) -> int:
    if task == 3:
        os._exit(1)  # as a segfault in a C decoder would end the worker
    return task * 10


def ctrl_c_mid_task(task: int) -> int:
    """Ctrl-C reaching the worker while it holds ``task`` (the terminal signals the whole
    process group), then the task's result."""
    import signal

    os.kill(os.getpid(), signal.SIGINT)
    return task * 10


def ctrl_c_to_caller(task: tuple[int, int]) -> int:
    """Task ``(n, caller_pid)``: for n == 1, Ctrl-C to the caller, then a short wait (the
    task still running when the caller is stopped); ``n * 10``. Task 0 takes longer, so the
    caller is waiting for its result (in the pool, not in its own loop) when the signal comes."""
    import signal
    import time

    number, caller = task
    if number == 0:
        time.sleep(0.6)
    if number == 1:
        os.kill(caller, signal.SIGINT)
        time.sleep(0.3)
    return number * 10
