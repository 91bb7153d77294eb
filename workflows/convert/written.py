"""What a convert task wrote, removed when it fails; and an output path that something else
stands in.

A folder at an output's path (a user's ``mkdir``, an older run's layout) made the task's
clean-up ``os.unlink`` it, whose ``IsADirectoryError`` escaped the task and stopped the whole
batch (exit 2, "Is a directory; it is a folder: give a file name"). Such a folder is not the
task's to remove: it is left alone, and the file fails on its own, recorded in
``errors.csv`` as ``cannot write OUTPUT: a folder is in the way``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from contextlib import suppress

__all__ = ["in_the_way", "outside", "remove_written", "stops_the_batch"]


def outside(name: str) -> bool:
    """Whether the output path ``name`` (relative to the output folder) leads out of it:
    absolute, or up past it (``../keep.npy``).

    >>> outside("a/x.npy"), outside("a/../../keep.npy"), outside("/tmp/x.npy")
    (False, True, True)
    """
    name = os.path.normpath(name)
    return os.path.isabs(name) or name == os.pardir or name.startswith(os.pardir + os.sep)


def remove_written(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Remove the files a failed task wrote; a folder at one of the paths is not its own and
    stays; a file at one of its folders' paths means it was never written (``lstat`` raised
    ``NotADirectoryError``, which stopped the whole batch, exit 2)."""
    for path in paths:
        with suppress(FileNotFoundError, NotADirectoryError):
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                os.unlink(path)


def in_the_way(err: BaseException, out_root: str) -> str | None:
    """``cannot write OUTPUT: a folder is in the way ...`` when ``err`` is a write refused
    because a folder stands at an output's path (or a file at one of its folders), the output
    named relative to ``out_root``; else ``None``.

    Examples
    --------
    >>> err = IsADirectoryError(errno.EISDIR, "Is a directory", "out/a/.x.tmp.npy", None,
    ...                         "out/a/x.npy")
    >>> in_the_way(err, "out")
    'cannot write a/x.npy: a folder is in the way (remove or rename it, then convert again)'
    """
    if not isinstance(err, OSError) or err.errno not in (errno.EISDIR, errno.ENOTDIR,
                                                          errno.EEXIST):  # fmt: skip
        return None
    target = err.filename2 or err.filename
    if not target:
        return None
    rel = os.path.relpath(os.fspath(target), out_root)
    if outside(rel):
        return None  # not an output: said as the file system's error
    if err.errno == errno.EEXIST:  # making an output's folder, where a file is
        if os.path.isdir(target):
            return None
        return (
            f"cannot write into {rel}: it is a file, where a folder must be (remove or "
            "rename it, then convert again)"
        )
    what = "a folder is in the way" if err.errno == errno.EISDIR else (
        "a file stands where one of its folders must be")  # fmt: skip
    return f"cannot write {rel}: {what} (remove or rename it, then convert again)"


#: Errors of writing that every later file of the batch would meet too.
_STOPPING = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
_DENIED = (errno.EACCES, errno.EPERM)


def stops_the_batch(err: BaseException, out_root: str) -> bool:
    """Whether ``err`` is a write into the output folder that no later file can get past: the
    disk or quota is full (``ENOSPC``, ``EDQUOT``), the file system read-only (``EROFS``), or
    writing into ``out_root`` refused (``EACCES``, ``EPERM`` naming a path inside it; a source
    file that cannot be read fails on its own).

    Such an error ends the batch (one line, exit 1; what finished stays recorded for the
    rerun) instead of failing each of thousands of files with the same reason.

    >>> stops_the_batch(OSError(errno.ENOSPC, "No space left on device", "out/a.npy"), "out")
    True
    >>> stops_the_batch(PermissionError(errno.EACCES, "Permission denied", "src/a.dcm"), "out")
    False
    """
    if not isinstance(err, OSError) or err.errno not in (*_STOPPING, *_DENIED):
        return False
    if err.errno in _STOPPING:
        return True
    named = err.filename2 or err.filename
    return named is not None and not os.path.relpath(os.fspath(named), out_root).startswith("..")
