"""Finding the files under a folder: every one accounted for (:func:`find_files`)."""

from __future__ import annotations

import errno
import os
import stat
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "OUTPUT_MARK", "RESULTS_MARK", "Found", "find_files", "mark_results", "source_files",
    "stat_or_none",
]  # fmt: skip


@dataclass(frozen=True)
class Found:
    """A file under the root.

    ``path`` is the root joined with ``rel`` (a plain string: a ``Path`` per file would
    intern every file name in pathlib's table, which never shrinks); ``rel`` is its path
    relative to the root (raw, for opening); ``problem`` says why it cannot be read at all,
    else ``None``; ``skipped`` marks a problem that is no failure (a hidden file, radpipe's
    own output folder): listed, not counted as failed.
    """

    path: str
    rel: str
    problem: str | None = None
    skipped: bool = False


def find_files(root: str | Path) -> Iterator[Found]:
    """Every file under ``root`` in a stable order; nothing found is passed over silently.

    Unreadable subfolders, dangling symbolic links and special files (FIFOs, sockets) are
    yielded with a ``problem``. Hidden files and folders (names starting with ``.``) and
    output folders of ``radpipe convert`` (holding :data:`OUTPUT_MARK`, e.g. an OUT inside
    SRC) are not read: each is yielded once with ``skipped`` set and the reason. Symbolic
    links to folders are followed, each real folder once (no loops). A file reached by a
    second path (a symbolic or hard link to a file already found) is skipped the same way:
    it is one file, not a duplicate in the data. Within a folder: the skipped subfolders,
    then the files, then the subfolders' contents, each by name.
    """
    top = os.fspath(root)
    yield from _walk(top, top, "", {os.path.realpath(top)}, FileKeys())


def _walk(root: str, folder: str, prefix: str, seen: set[str], files: FileKeys) -> Iterator[Found]:
    """One folder's entries, read with one ``scandir``: a regular file costs no ``stat``.

    Its inode comes with the directory entry, and the folder's device is the file's.
    ``prefix``: the folder's path relative to the root, ``""`` or ending in ``/``;
    ``files``: ``(device, inode)`` of every file found so far.
    """
    folders: list[str] = []
    names: list[tuple[str, bool, int]] = []  # (name, regular by its directory entry, inode)
    try:
        device = os.stat(folder).st_dev
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    is_dir = entry.is_dir()  # follows a symbolic link
                except OSError:
                    is_dir = False
                if is_dir:
                    folders.append(entry.name)
                else:
                    regular = entry.is_file(follow_symlinks=False)
                    names.append((entry.name, regular, entry.inode() if regular else -1))
    except OSError as err:
        yield _walk_error(root, err)
        return
    folders.sort()
    names.sort()
    keep = []
    for name in folders:
        path = os.path.join(folder, name)
        why = _skipped_folder(path, name, seen)
        if why:
            yield Found(path, prefix + name, why, skipped=True)
        else:
            keep.append(path)
    for name, regular, inode in names:
        path = os.path.join(folder, name)
        if name.startswith("."):
            yield Found(path, prefix + name, "hidden file (name starts with '.'): skipped", True)
            continue
        problem = _file_problem(path, regular)
        if problem is None and _seen_file(path, (device, inode) if regular else None, files):
            problem = "a second path to a file already read (a symbolic or hard link): skipped"
            yield Found(path, prefix + name, problem, skipped=True)
            continue
        yield Found(path, prefix + name, problem)
    for path in keep:
        yield from _walk(root, path, f"{prefix}{os.path.basename(path)}/", seen, files)


def _seen_file(path: str, key: tuple[int, int] | None, files: FileKeys) -> bool:
    """Whether the file ``path`` was found before; if not, it is remembered.

    ``key``: its device and inode, ``None`` for a symbolic link (its target is looked up).
    """
    if key is None:
        try:
            st = os.stat(path)
        except OSError:
            return False
        key = (st.st_dev, st.st_ino)
    return files.add(*key)


class FileKeys:
    """The ``(device, inode)`` of every file found, in about 11 bytes a file.

    A ``set`` of tuples takes about 160 bytes a file (16 MB for 100,000 files), which made
    the memory of a conversion grow with its number of files. Per device, an open-addressing
    table of ``inode + 1`` (0: a free slot) in an ``array`` of 64-bit slots, at most 3/4
    full; an inode too large for that is kept in a small ``set``.
    """

    _START = 1024  # slots of a new table (a power of two)

    def __init__(self) -> None:
        self._tables: dict[int, tuple[array[int], list[int]]] = {}  # table, [count]
        self._others: set[tuple[int, int]] = set()

    def add(self, device: int, inode: int) -> bool:
        """Remember the file; ``True`` when it was there already."""
        if not 0 <= inode < 2**64 - 1:
            key = (device, inode)
            seen = key in self._others
            self._others.add(key)
            return seen
        held = self._tables.get(device)
        if held is None:
            held = self._tables[device] = (array("Q", bytes(8 * self._START)), [0])
        table, count = held
        if _probe(table, inode + 1, True):
            return True
        count[0] += 1
        if 4 * count[0] > 3 * len(table):
            bigger = array("Q", bytes(16 * len(table)))
            for value in table:
                if value:
                    _probe(bigger, value, False)
            self._tables[device] = (bigger, count)
        return False


def _probe(table: array[int], value: int, look: bool) -> bool:
    """Find ``value`` (``look``) or put it into its first free slot; ``True``: found."""
    mask, shift = len(table) - 1, 65 - len(table).bit_length()
    slot = ((value * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> shift  # Fibonacci hashing
    while table[slot]:
        if look and table[slot] == value:
            return True
        slot = (slot + 1) & mask
    table[slot] = value
    return False


#: A file that marks a folder as radpipe's own output (``radpipe convert``'s lock).
OUTPUT_MARK = ".radpipe-convert.lock"
#: A file that marks a folder of results (a run directory, predictions, an evaluation).
RESULTS_MARK = ".radpipe-output"


def mark_results(folder: Path) -> None:
    """Mark ``folder`` (made if needed) as radpipe's results, never read as input.

    A run's ``output`` or a ``--out`` inside the DICOM folder (``data.source: scans``,
    ``output: scans/runs``) made the run's own checkpoints, plots and SEG files part of its
    input: converted as failed files, changing the source's fingerprint (so never resumable).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULTS_MARK).touch()


def source_files(root: Path) -> list[Path]:
    """The files under ``root`` that a conversion may read, for its fingerprint.

    Hidden files and folders and radpipe's output folders are left out, as
    :func:`find_files` skips them: their changes are no change of the data.
    """
    out: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not _marked(Path(folder, d))]
        out.extend(Path(folder, n) for n in names if not n.startswith("."))
    return [p for p in out if p.is_file()]


def _marked(folder: Path) -> bool:
    return (folder / OUTPUT_MARK).exists() or (folder / RESULTS_MARK).exists()


def _skipped_folder(path: str, name: str, seen: set[str]) -> str:
    """Why a subfolder is not entered (``""``: enter it, and remember it as seen)."""
    if name.startswith("."):
        return "hidden folder (name starts with '.'): not read, skipped"
    if stat_or_none(os.path.join(path, OUTPUT_MARK)) is not None:
        return "an output folder of radpipe convert: not read as input, skipped"
    if stat_or_none(os.path.join(path, RESULTS_MARK)) is not None:
        return "an output folder of radpipe (run, predict, evaluate): not read as input, skipped"
    real = os.path.realpath(path)
    if real in seen:
        return "a second path to a folder already read (a symbolic link or a loop): skipped"
    seen.add(real)
    return ""


#: What ``Path.exists`` takes for "not there"; any other error is raised, as it raises it.
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def stat_or_none(path: str) -> os.stat_result | None:
    """``os.stat(path)`` (links followed), ``None`` where ``Path(path).exists()`` is false."""
    try:
        return os.stat(path)
    except OSError as err:
        if err.errno in _MISSING:
            return None
        raise
    except ValueError:  # a NUL in the name
        return None


def _walk_error(root: str, err: OSError) -> Found:
    path = os.fspath(err.filename or root)
    try:
        rel = Path(path).relative_to(root).as_posix()  # once per unreadable folder
    except ValueError:
        rel = "."
    return Found(path, rel or ".", f"unreadable folder ({err.strerror or type(err).__name__})")


def _file_problem(path: str, regular: bool) -> str | None:
    """Why a file cannot be read (``None``: it can).

    ``regular``: its directory entry says it is a regular file, so only the permission is
    checked (no ``stat``).
    """
    try:
        if not regular:
            st = stat_or_none(path)
            if st is None:
                return "dangling symbolic link (its target does not exist)"
            if not stat.S_ISREG(st.st_mode):
                return "not a regular file (FIFO, socket or device)"
        if not os.access(path, os.R_OK):
            return "unreadable file (permission denied)"
    except OSError as err:
        return f"unreadable file ({err.strerror or type(err).__name__})"
    return None
