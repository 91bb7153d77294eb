"""A task function for the pool tests, in a module that imports nothing heavy (fast workers)."""

from __future__ import annotations

import os


def die_on_three(task: int) -> int:
    if task == 3:
        os._exit(1)  # as a segfault in a C decoder would end the worker
    return task * 10


def sigint_ignored(task: int) -> tuple[bool, bool | None]:
    """Whether Ctrl-C is ignored in this worker, and in its parent (the fork server: read from
    Linux's /proc, ``None`` elsewhere)."""
    import signal

    parent: bool | None = None
    try:
        with open(f"/proc/{os.getppid()}/status") as fh:
            for line in fh:
                if line.startswith("SigIgn:"):
                    parent = bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        pass
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN, parent


def mark_and_sleep(task: tuple[str, int]) -> int:
    """Leave a file named after the task in the folder; tasks from 12 on then sleep 0.5 s."""
    import time

    folder, number = task
    open(os.path.join(folder, str(number)), "w").close()
    if number >= 12:
        time.sleep(0.5)
    return number


def ctrl_c_mid_task(task: int) -> int:
    """Ctrl-C reaching the worker while it holds ``task`` (the terminal signals the whole
    process group), then the task's result."""
    import signal

    os.kill(os.getpid(), signal.SIGINT)
    return task * 10
