"""Finding the files under a folder: every one accounted for (:func:`find_files`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OUTPUT_MARK", "Found", "find_files"]


@dataclass(frozen=True)
class Found:
    """A file under the root.

    ``rel`` is its path relative to the root (raw, for opening); ``problem`` says why it
    cannot be read at all, else ``None``; ``skipped`` marks a problem that is no failure (a
    hidden file, radpipe's own output folder): listed, not counted as failed.
    """

    path: Path
    rel: str
    problem: str | None = None
    skipped: bool = False


def find_files(root: Path) -> Iterator[Found]:
    """Every file under ``root`` in a stable order; nothing found is passed over silently.

    Unreadable subfolders, dangling symbolic links and special files (FIFOs, sockets) are
    yielded with a ``problem``. Hidden files and folders (names starting with ``.``) and
    output folders of ``radpipe convert`` (holding :data:`OUTPUT_MARK`, e.g. an OUT inside
    SRC) are not read: each is yielded once with ``skipped`` set and the reason. Symbolic
    links to folders are followed, each real folder once (no loops).
    """
    failed: list[OSError] = []
    seen = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, onerror=failed.append, followlinks=True):
        while failed:
            yield _walk_error(root, failed.pop(0))
        keep = []
        for d in sorted(dirnames):
            path = Path(dirpath) / d
            why = _skipped_folder(path, d, seen)
            if why:
                yield Found(path, path.relative_to(root).as_posix(), why, skipped=True)
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if name.startswith("."):
                yield Found(path, rel, "hidden file (name starts with '.'): skipped", True)
                continue
            yield Found(path, rel, _file_problem(path))
    while failed:
        yield _walk_error(root, failed.pop(0))


#: A file that marks a folder as radpipe's own output (``radpipe convert``'s lock).
OUTPUT_MARK = ".radpipe-convert.lock"


def _skipped_folder(path: Path, name: str, seen: set[str]) -> str:
    """Why a subfolder is not entered (``""``: enter it, and remember it as seen)."""
    if name.startswith("."):
        return "hidden folder (name starts with '.'): not read, skipped"
    if (path / OUTPUT_MARK).exists():
        return "an output folder of radpipe convert: not read as input, skipped"
    real = os.path.realpath(path)
    if real in seen:
        return "symbolic link to a folder already read (a loop or a second path): skipped"
    seen.add(real)
    return ""


def _walk_error(root: Path, err: OSError) -> Found:
    path = Path(err.filename or root)
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = "."
    return Found(path, rel or ".", f"unreadable folder ({err.strerror or type(err).__name__})")


def _file_problem(path: Path) -> str | None:
    try:
        if not path.exists():
            return "dangling symbolic link (its target does not exist)"
        if not path.is_file():
            return "not a regular file (FIFO, socket or device)"
        if not os.access(path, os.R_OK):
            return "unreadable file (permission denied)"
    except OSError as err:
        return f"unreadable file ({err.strerror or type(err).__name__})"
    return None
