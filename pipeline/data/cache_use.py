"""Cache entries in use, and removing those long unused (sample and conversion caches).

The sample cache (:mod:`pipeline.data.cache`) and the conversion cache of ``radpipe run``
(:mod:`workflows.run.convert_cache`), which follows the same policy (last paragraph).

Every preprocessing key makes a new entry (``FOLDER/<fingerprint>/``: a packed copy of a whole
dataset), and until 2026-12-04 none was ever removed: ``OUTPUT/.cache/samples`` grew with
every run that changed a stage, a split or a file. Now a process that maps an entry holds a
shared ``flock`` on ``FOLDER/<fingerprint>.use`` for as long as it maps it (forked DataLoader
workers share it), and records the use in the entry's ``index.json`` time.
:func:`prune_unused` removes an entry only with that lock taken exclusively (no process maps
it; one that comes to map it meanwhile waits, then finds it gone and builds it again) and its
build lock free. The ``.use`` and ``.lock`` files themselves stay: removing a lock file that
another process has open would let two processes hold "the" lock at once.

The conversion cache (``OUTPUT/.cache/convert-<key>/``, one per source folder, file
fingerprint, conversion options and radpipe version) grew the same way until 2026-12-04; it
follows the same policy (``prefix="convert-"``): a run holds ``convert-<key>.use`` shared from
before it looks at the entry until its study is done with, its ``.complete`` mark's time is
the entry's last use, and a run that converts a new entry removes those long unused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import weakref
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: nothing is marked in use, so nothing is pruned
    fcntl = None  # type: ignore[assignment]

__all__ = ["UNUSED_DAYS", "EntryInUse", "mark_used", "prune_unused", "say_pruned", "use_entry"]

#: Entries no run has mapped for this many days are removed by :func:`prune_unused`.
UNUSED_DAYS = 14

log = logging.getLogger("radpipe")


class EntryInUse:
    """A shared lock on one entry's ``.use`` file, released when this object is collected.

    Or when its process ends. Not carried across a pickle (a spawned worker): the process
    that made it holds it.
    """

    def __init__(self, path: Path) -> None:
        self.fd: int | None = None
        if fcntl is None:
            return
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError:  # a read-only cache: no prune can remove it either
            return
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a prune removes this entry
        self.fd = fd
        weakref.finalize(self, os.close, fd)

    def __getstate__(self) -> dict[str, Any]:
        return {"fd": None}


def use_entry(root: Path, name: str) -> EntryInUse:
    """Hold entry ``name`` of the cache ``root`` in use (:class:`EntryInUse`).

    Taken before looking whether the entry is complete, so that no prune removes it after.
    """
    return EntryInUse(root / f"{name}.use")


def mark_used(folder: Path, stamp: str = "index.json") -> None:
    """Record now as the entry's last use (its ``stamp`` file's time; a read-only cache: none)."""
    with contextlib.suppress(OSError):
        os.utime(folder / stamp)


def prune_unused(
    root: Path, days: float = UNUSED_DAYS, *, prefix: str = "", stamp: str = "index.json"
) -> tuple[int, int]:
    """Remove the entries of the cache ``root`` unused for ``days`` and used by no process.

    Entries are the folders of ``root`` whose names start with ``prefix`` (never with ``.``);
    the time of an entry's ``stamp`` file is its last use. Returns how many were removed and
    their bytes. An entry a killed builder left unfinished (no ``stamp``) counts from its
    folder's time.
    """
    from filelock import FileLock, Timeout

    if fcntl is None or not root.is_dir():
        return 0, 0
    removed = size = 0
    limit = time.time() - days * 86400
    names = sorted(p for p in root.iterdir() if p.name.startswith(prefix) and p.is_dir())
    for entry in (p for p in names if not p.name.startswith(".")):
        used = entry / stamp if (entry / stamp).is_file() else entry
        if used.stat().st_mtime > limit:
            continue
        fd = os.open(root / f"{entry.name}.use", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # mapped by a process now
            os.close(fd)
            continue
        build = FileLock(str(root / f"{entry.name}.lock"))
        try:
            build.acquire(timeout=0)
        except Timeout:  # being built
            os.close(fd)
            continue
        try:
            bytes_ = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            shutil.rmtree(entry)
            removed, size = removed + 1, size + bytes_
        except OSError:  # a file that cannot be removed (read-only cache): left
            pass
        finally:
            build.release()
            os.close(fd)
    return removed, size


def say_pruned(
    root: Path, days: float = UNUSED_DAYS, *, prefix: str = "", stamp: str = "index.json",
    what: str = "sample cache",
) -> None:  # fmt: skip
    """:func:`prune_unused`, and say what it removed (``what``: the cache, as said)."""
    from pipeline.words import counted

    removed, size = prune_unused(root, days, prefix=prefix, stamp=stamp)
    if removed:
        log.info("%s: removed %s no run had used for %g days (%.1f MB)", what,
                 counted(removed, "entry"), days, size / 1e6)  # fmt: skip
