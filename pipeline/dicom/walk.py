"""Finding the files under a folder: every one accounted for (:func:`find_files`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OUTPUT_MARK", "RESULTS_MARK", "Found", "find_files", "mark_results", "source_files"]


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
    links to folders are followed, each real folder once (no loops). A file reached by a
    second path (a symbolic or hard link to a file already found) is skipped the same way:
    it is one file, not a duplicate in the data. Within a folder: the skipped subfolders,
    then the files, then the subfolders' contents, each by name.
    """
    yield from _walk(root, root, "", {os.path.realpath(root)}, set())


def _walk(
    root: Path, folder: Path, prefix: str, seen: set[str], files: set[tuple[int, int]]
) -> Iterator[Found]:
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
        path = folder / name
        why = _skipped_folder(path, name, seen)
        if why:
            yield Found(path, prefix + name, why, skipped=True)
        else:
            keep.append(path)
    for name, regular, inode in names:
        path = folder / name
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
        yield from _walk(root, path, f"{prefix}{path.name}/", seen, files)


def _seen_file(path: Path, key: tuple[int, int] | None, files: set[tuple[int, int]]) -> bool:
    """Whether the file ``path`` was found before; if not, it is remembered.

    ``key``: its device and inode, ``None`` for a symbolic link (its target is looked up).
    """
    if key is None:
        try:
            st = os.stat(path)
        except OSError:
            return False
        key = (st.st_dev, st.st_ino)
    if key in files:
        return True
    files.add(key)
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


def _skipped_folder(path: Path, name: str, seen: set[str]) -> str:
    """Why a subfolder is not entered (``""``: enter it, and remember it as seen)."""
    if name.startswith("."):
        return "hidden folder (name starts with '.'): not read, skipped"
    if (path / OUTPUT_MARK).exists():
        return "an output folder of radpipe convert: not read as input, skipped"
    if (path / RESULTS_MARK).exists():
        return "an output folder of radpipe (run, predict, evaluate): not read as input, skipped"
    real = os.path.realpath(path)
    if real in seen:
        return "a second path to a folder already read (a symbolic link or a loop): skipped"
    seen.add(real)
    return ""


def _walk_error(root: Path, err: OSError) -> Found:
    path = Path(err.filename or root)
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = "."
    return Found(path, rel or ".", f"unreadable folder ({err.strerror or type(err).__name__})")


def _file_problem(path: Path, regular: bool) -> str | None:
    """Why a file cannot be read (``None``: it can).

    ``regular``: its directory entry says it is a regular file, so only the permission is
    checked (no ``stat``).
    """
    try:
        if not regular:
            if not path.exists():
                return "dangling symbolic link (its target does not exist)"
            if not path.is_file():
                return "not a regular file (FIFO, socket or device)"
        if not os.access(path, os.R_OK):
            return "unreadable file (permission denied)"
    except OSError as err:
        return f"unreadable file ({err.strerror or type(err).__name__})"
    return None
