"""Atomic writes: a temporary file in the target folder, then ``os.replace``.

A reader never sees a half-written file, and a crash leaves at most a ``.tmp`` file behind,
which a rerun overwrites.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

_FLAGS = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))  # fmt: skip
_COUNTER = itertools.count()
#: Folders this process made or found, so that writing many files into one folder costs no
#: ``mkdir`` each (bounded; a folder removed since is made again).
_FOLDERS: set[str] = set()


def _stem_suffixes(name: str) -> tuple[str, str]:
    """``Path(name).stem`` and ``"".join(Path(name).suffixes)``, without a ``Path``.

    pathlib interns every name it parses, in a table that never shrinks: a ``Path`` per
    output would grow the memory of a conversion with its number of files.
    """
    dot = name.rfind(".")
    stem = name[:dot] if 0 < dot < len(name) - 1 else name
    if name.endswith("."):
        return stem, ""
    return stem, "".join("." + s for s in name.lstrip(".").split(".")[1:])


def _temporary(path: str) -> tuple[int, str]:
    """An open descriptor and the name of a new temporary file beside ``path``.

    The name keeps the final suffix, so writers that pick a format from the extension (PNG,
    ``.nii.gz``) still work; it is unique by process id, a counter and a random part, and
    created exclusively (``O_EXCL``, no link followed), like ``tempfile.mkstemp``, in one
    system call; the mode follows the umask (``mkstemp`` makes 0600).
    """
    parent, name = os.path.split(path)
    parent = parent or "."
    if parent not in _FOLDERS:
        os.makedirs(parent, exist_ok=True)
        if len(_FOLDERS) >= 1024:
            _FOLDERS.clear()
        _FOLDERS.add(parent)
    stem, suffix = _stem_suffixes(name)
    for attempt in range(100):
        token = f"{os.getpid()}-{next(_COUNTER)}-{secrets.token_hex(3)}"
        name = os.path.join(parent, f".{stem}.{token}.tmp{suffix}")
        try:
            return os.open(name, _FLAGS, 0o666), name
        except FileExistsError:
            continue
        except FileNotFoundError:
            if attempt:
                raise
            os.makedirs(parent, exist_ok=True)  # removed since it was seen
        except OSError as err:  # a read-only folder: say the file meant, not the hidden temp
            raise OSError(err.errno, err.strerror, path) from err
    raise FileExistsError(f"{os.path.basename(path)}: no free temporary name beside it.")


@contextmanager
def _renamed_on_success(tmp_name: str, path: str) -> Iterator[None]:
    """Rename the temporary file to ``path`` when the block succeeds, else remove it.

    An ``OSError`` that names no file (a write to a full disk) is raised again naming
    ``path``, so that the message says which output failed.
    """
    try:
        yield
        os.replace(tmp_name, path)
    except OSError as err:
        _unlink(tmp_name)
        if err.filename is None and err.errno is not None:  # a write: say which file
            raise OSError(err.errno, err.strerror, path) from err
        raise
    except BaseException:
        _unlink(tmp_name)
        raise


def _unlink(name: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(name)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    For writers that take a file name (nibabel, say); see :func:`atomic_open` for a handle.
    """
    path = os.fspath(Path(path))
    fd, tmp_name = _temporary(path)
    os.close(fd)
    with _renamed_on_success(tmp_name, path):
        yield Path(tmp_name)


@contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file open for writing; on success it becomes ``path`` atomically.

    Like :func:`atomic_path`, with the temporary file written through the descriptor that
    created it (no close and reopen by name): the hot path of writing many small outputs.
    """
    path = os.fspath(path)
    fd, tmp_name = _temporary(path)
    with _renamed_on_success(tmp_name, path), os.fdopen(fd, "wb") as fh:
        yield fh


@contextmanager
def atomic_descriptor(path: str | Path) -> Iterator[int]:
    """Yield the descriptor of a new temporary file; on success it becomes ``path`` atomically.

    Like :func:`atomic_open` with the fewest system calls, for writers of many small outputs
    (:func:`write_all`): no file object, whose making asks the descriptor for its status,
    whether it is a terminal and its position. The descriptor is closed before the rename.
    """
    path = os.fspath(path)
    fd, tmp_name = _temporary(path)
    with _renamed_on_success(tmp_name, path):
        try:
            yield fd
        finally:
            os.close(fd)


def write_all(fd: int, *chunks: Any) -> None:
    """Write every byte of ``chunks``, in order, to ``fd``.

    ``chunks``: anything with the buffer protocol (bytes, C-contiguous arrays). One ``writev``
    call, more when a write is short (a file system may write less than asked).
    """
    views = [view.cast("B") for c in chunks if (view := memoryview(c)).nbytes]
    writev = getattr(os, "writev", None)  # POSIX; elsewhere one write per chunk
    while views:
        done = writev(fd, views) if writev is not None else os.write(fd, views[0])
        while views and done >= len(views[0]):
            done -= len(views.pop(0))
        if views:
            views[0] = views[0][done:]


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file, then a rename)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, UTF-8 encoded."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: str | Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_path)`` and move the result into place atomically."""
    with atomic_path(path) as tmp:
        write(tmp)


def atomic_copy(source: str | Path, path: str | Path) -> None:
    """Copy the file ``source`` to ``path`` atomically: into a temporary file, then renamed."""
    import shutil

    atomic_write_with(path, lambda tmp: shutil.copyfile(source, tmp))


def remove_orphaned_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporaries in ``folder`` (not below) whose writer has ended; return them.

    A process killed while it wrote (``kill -9``, the out-of-memory killer) leaves its
    temporary file, never renamed; its name holds that process's id (:func:`_temporary`). A
    temporary of a live process (another writer's, now) is not one of them; neither is a
    file whose name does not say its process.
    """
    found = []
    for path in Path(folder).glob(".*.tmp*"):
        token = path.name.rsplit(".tmp", 1)[0].rsplit(".", 1)[-1]  # PID-COUNTER-HEX
        pid = token.split("-")[0]
        if pid.isdigit() and path.is_file() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            found.append(path)
    return found


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # another user's
        return True
    return True
