"""Atomic writes: a temporary file in the target folder, then ``os.replace``.

A reader never sees a half-written file, and a crash leaves at most a ``.tmp`` file behind,
which a rerun overwrites.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def _temporary(path: Path) -> tuple[int, str]:
    """An open descriptor and the name of a new temporary file beside ``path``.

    The name keeps the final suffix, so writers that pick a format from the extension (PNG,
    ``.nii.gz``) still work; the mode follows the umask (``mkstemp`` alone makes 0600).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                                suffix=f".tmp{''.join(path.suffixes)}")  # fmt: skip
    try:
        os.fchmod(fd, _FILE_MODE)
    except BaseException:
        os.close(fd)
        Path(name).unlink(missing_ok=True)
        raise
    return fd, name


@contextmanager
def _renamed_on_success(tmp_name: str, path: Path) -> Iterator[None]:
    """Rename the temporary file to ``path`` when the block succeeds, else remove it."""
    try:
        yield
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    For writers that take a file name (nibabel, say); see :func:`atomic_open` for a handle.
    """
    path = Path(path)
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
    path = Path(path)
    fd, tmp_name = _temporary(path)
    with _renamed_on_success(tmp_name, path), os.fdopen(fd, "wb") as fh:
        yield fh


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
