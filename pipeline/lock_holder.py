"""radpipe's file locks, and who holds one: pid, host and start time, recorded beside it.

A lock file of the ``filelock`` package is held with ``flock``, which cannot say who holds
it; so the holder writes ``NAME.holder.json`` beside ``NAME.lock`` (not into the lock file,
which ``filelock`` may empty on every attempt to take it) once it has the lock, atomically,
and removes it before letting go. A refusal or a wait then names the process
(:func:`holder_words`): ``radpipe run`` (``RUN/.radpipe-run.lock``, since 2026-12-03),
``radpipe convert`` (``OUT/.radpipe-convert.lock``) and the conversion cache of ``radpipe
run`` (``OUTPUT/.cache/convert-KEY.lock``); until 2026-12-03 the last two said only "another
conversion". The holder file starts with ``.``, so a folder listing of radpipe never reads
it as input (:func:`pipeline.dicom.walk.find_files`).

``flock`` is released by the system when its process ends, however it ends (killed, a
crash), so a stopped process leaves nothing to remove: the next one takes the lock at once.
Its holder file may stay behind (a process killed outright does not remove it); the next
holder replaces it, and meanwhile a record whose process is gone (same host) says so rather
than naming it as the holder. A pid alone does not tell: the system gives a gone process's
pid to a later one, so the record also holds the process's start (the boot id and the start
time in clock ticks, from ``/proc``; since 2026-12-03), and a live pid that started at
another time is said to be another process, not the holder.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import RadpipeError

if TYPE_CHECKING:
    from filelock import BaseFileLock

__all__ = ["held_by", "holder_path", "holder_words", "holding", "process_start", "waiting_for"]


def holder_path(lock: Path) -> Path:
    """``NAME.holder.json`` beside the lock file ``NAME.lock``."""
    return lock.with_name(lock.name.removesuffix(".lock") + ".holder.json")


@contextmanager
def holding(lock: Path, busy: Callable[[str], str]) -> Iterator[None]:
    """Hold the file lock ``lock`` for the ``with`` block, its holder recorded beside it.

    Raises
    ------
    RadpipeError
        ``busy(holder_words(lock))``, at once (no waiting), when another process holds it.
    """
    from filelock import FileLock, Timeout

    flock = FileLock(str(lock))
    try:
        flock.acquire(timeout=0)
    except Timeout:
        raise RadpipeError(busy(holder_words(lock))) from None
    with _recorded(lock, flock):
        yield


@contextmanager
def waiting_for(lock: Path, say: Callable[[str], None], patience: float = 1.0) -> Iterator[None]:
    """Hold the file lock ``lock`` for the ``with`` block, its holder recorded beside it.

    Waits as long as another process holds it; after ``patience`` seconds of waiting,
    ``say(holder_words(lock))`` once.
    """
    from filelock import FileLock, Timeout

    flock = FileLock(str(lock))
    try:
        flock.acquire(timeout=patience)
    except Timeout:
        say(holder_words(lock))
        flock.acquire()
    with _recorded(lock, flock):
        yield


@contextmanager
def _recorded(lock: Path, flock: BaseFileLock) -> Iterator[None]:
    """Record this process as the holder of the taken ``flock``, atomically.

    On the way out the record is removed, then the lock released (in that order: a next
    holder's record is never removed).
    """
    from pipeline.io_atomic import atomic_write_text

    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    record = {"pid": os.getpid(), "host": socket.gethostname(), "since": since,
              "started": process_start(os.getpid())}  # fmt: skip
    try:
        with suppress(OSError):  # a folder that cannot take it: the lock alone still refuses
            atomic_write_text(holder_path(lock), json.dumps(record))
        yield
    finally:
        with suppress(OSError):
            holder_path(lock).unlink()
        flock.release()


def holder_words(lock: Path) -> str:
    """``pid 123 on host h since 2026-12-03 15:40:00 UTC``, from the holder file of ``lock``.

    ``another process`` when it is missing or unreadable (an older radpipe, or a holder that
    has not written it yet); when its process is gone (this host; a pid of another host
    cannot be checked), that is said instead of naming it as the holder, and so is a pid
    now used by another process (its start differs from the one recorded).
    """
    try:
        record = json.loads(holder_path(lock).read_text())
        pid, host, since = int(record["pid"]), str(record["host"]), str(record["since"])
        started = record.get("started")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "another process"
    words = f"pid {pid} on host {host} since {since}"
    if host != socket.gethostname():
        return words
    if not _alive(pid):
        return f"another process; the last one recorded, {words}, has ended"
    now = process_start(pid)
    if isinstance(started, str) and now is not None and now != started:
        return (f"another process; the last one recorded, {words}, has ended (pid {pid} now "
                "belongs to an unrelated process)")  # fmt: skip
    return words


def process_start(pid: int) -> str | None:
    """``BOOT_ID:TICKS``, the boot and start (clock ticks after boot) of process ``pid``.

    Together they name the process for good, where a pid alone is reused; ``None`` where
    ``/proc`` cannot say (not Linux, a process gone).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the name, in parentheses, may hold spaces
    if len(fields) < 20:
        return None
    return f"{boot}:{fields[19]}"  # field 22 of proc(5), starttime; fields[0] is field 3


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def held_by(lock: Path) -> str | None:
    """:func:`holder_words` when another process holds ``lock`` now, else ``None``.

    Probing takes the lock for a moment (a lock file cannot be asked without trying it), so
    callers ask only where the state looks unfinished; a lock file that is not there, or that
    cannot be opened (a read-only copy), is not held.
    """
    from filelock import FileLock, Timeout

    if not lock.is_file():
        return None
    flock = FileLock(str(lock))
    try:
        flock.acquire(timeout=0)
    except Timeout:
        return holder_words(lock)
    except OSError:
        return None
    flock.release()
    return None
