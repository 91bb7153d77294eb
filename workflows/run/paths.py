"""The path settings of a run config: relative to the config file, and to the run directory.

Relative paths written in a config file are taken from the file's folder (:func:`anchor_paths`,
before validation). The copy of the config kept in a run directory, and in its checkpoints,
stores them relative to the run directory (:func:`relative_paths`), so that no absolute path
of this machine is kept and a moved project still resolves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["PATH_KEYS", "anchor_paths", "has_files", "not_a_run", "pick_base",
           "refuse_out_is_source", "relative_paths", "require_inputs", "resume_command",
           "said", "shown"]  # fmt: skip

#: The config's path settings: (section or None for the top level, key).
PATH_KEYS = (("data", "source"), ("data", "labels"), ("data", "masks"), (None, "output"),
             ("train", "init_from"))  # fmt: skip


def anchor_paths(raw: dict[str, Any], base: Path) -> None:
    """Make the relative path settings of a raw mapping relative to ``base`` (in place)."""
    for section, key in PATH_KEYS:
        node = raw.get(section) if section else raw
        if isinstance(node, dict) and isinstance(node.get(key), str):
            value = Path(node[key]).expanduser()
            node[key] = str(value if value.is_absolute() else base / value)


#: The path settings that name inputs, which must exist.
_INPUT_KEYS = (("data", "source"), ("data", "labels"), ("data", "masks"), ("train", "init_from"))


def pick_base(raw: dict[str, Any], config_dir: Path, cwd: Path) -> tuple[Path, str]:
    """The folder a config file's relative paths are taken from, and a note when it is not
    the config file's own folder (``""`` otherwise).

    The config file's folder, as documented, unless some relative input path (``data.source``,
    ``data.labels``, ``data.masks``, ``train.init_from``) is missing there while every one of
    them exists under the current directory: then the file was evidently written for the
    current directory, and all its relative paths (``output`` too) are taken from there, with
    the note saying so. One base for the whole file, never a mix.
    """
    relative = []
    for section, key in _INPUT_KEYS:
        node = raw.get(section) if section else raw
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            relative.append((f"{section}.{key}", Path(value).expanduser()))
    if config_dir.resolve() == cwd.resolve() or not relative:
        return config_dir, ""
    if all((config_dir / p).exists() for _, p in relative):
        return config_dir, ""
    if not all((cwd / p).exists() for _, p in relative):
        return config_dir, ""  # missing either way: the errors name the documented paths
    names = ", ".join(name for name, _ in relative)
    return cwd, (
        f"the relative paths of the config ({names}) do not all exist beside the config file "
        "but do under the current directory, so all its relative paths (output too) are "
        "taken from the current directory; write them relative to the config file's folder "
        "to run it from anywhere"
    )


def relative_paths(plain: dict[str, Any], base: Path) -> dict[str, Any]:
    """``plain`` (a config as plain types) with its path settings relative to ``base``."""
    for section, key in PATH_KEYS:
        node = plain.get(section) if section else plain
        if isinstance(node, dict) and node.get(key):
            node[key] = Path(os.path.relpath(node[key], base)).as_posix()
    return plain


def shown(path: Path) -> Path:
    """``path`` as a user should see it on the terminal, never as an absolute local path:
    relative to the working directory when it lies below it; else ``~/...`` below the home
    folder; else relative to the working directory through ``..`` when the two share a
    folder other than ``/`` (``../runs/a-1``); else by its last two folders, which the user
    recognises as the ones they chose: ``.../runs/a-1``, and a file's ``.../a-1/ext/metrics.json``
    (``.../a-1`` and ``.../metrics.json`` alone, until 2026-12-04, dropped them).

    A working directory of ``/`` counts as none: a path "relative" to it is the absolute
    path without its first slash (``tmp/proj/runs/a-1``, as ``radpipe run`` said it from
    ``/``), and a path outside the working directory was printed absolute until 2026-12-03.
    """
    full, cwd = path.resolve(), Path.cwd().resolve()
    if cwd != Path(cwd.anchor) and full.is_relative_to(cwd):
        return full.relative_to(cwd)
    try:
        home = Path.home().resolve()
        if home != Path(home.anchor):  # a home of "/" holds every path: no home
            return Path("~") / full.relative_to(home)
    except (ValueError, RuntimeError):  # RuntimeError: no home folder known
        pass
    if Path(os.path.commonpath([full, cwd])) != Path(cwd.anchor):
        return Path(os.path.relpath(full, cwd))
    return Path("...", *full.parts[1:][-3 if full.is_file() else -2 :])


def relative_or_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX), or its name alone when it lies outside (no
    absolute local path in tables and messages)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def resume_command(run_dir: Path, nproc: int | None = None) -> str:
    """``radpipe run --resume RUN`` for ``run_dir`` (with ``--nproc N`` when given), for an
    error message or the advice after a stop: the run named as :func:`said` names it, quoted
    for a shell."""
    launch = f"radpipe run --nproc {nproc}" if nproc else "radpipe run"
    return f"{launch} --resume {said(run_dir, quote=True)}"


def said(path: Path, quote: bool = False) -> str:
    """``path`` for a terminal line as :func:`shown` gives it (no absolute local path), the
    path part after ``~/`` or ``.../`` quoted for a shell when ``quote``."""
    import shlex

    put = shlex.quote if quote else str
    text = shown(path).as_posix()
    for head in ("~/", ".../"):
        if text.startswith(head):
            return head + put(text[len(head) :])
    return put(text)


def require_inputs(src: Path, **files: Path | None) -> None:
    """Refuse, before anything is written, a SRC that is no folder and a CSV that is no file
    (``files``: option name without dashes -> path, ``None`` when not given).

    Raises
    ------
    ConfigError
        Naming the argument and the path as given (a usage error: exit code 2).
    """
    from pipeline.errors import ConfigError

    if not src.is_dir():
        why = "not a folder (give the folder that holds the DICOM files)" if src.exists() else (
            "no such folder")  # fmt: skip
        raise ConfigError(f"SRC {src}: {why}.")
    if not has_files(src):  # was found once OUT was made and conversion ran (exit 1)
        raise ConfigError(f"SRC {src}: no file in it (an empty folder?).")
    for name, path in files.items():
        if path is not None and not path.is_file():
            why = "a folder, not a file (give the CSV file)" if path.is_dir() else "no such file"
            raise ConfigError(f"--{name} {path}: {why}.")


def has_files(folder: Path) -> bool:
    """Whether ``folder`` holds a file radpipe would read (or report as unreadable), hidden
    files and radpipe's own output folders aside: the walk stops at the first."""
    from pipeline.dicom.walk import find_files

    return any(not found.skipped for found in find_files(folder))


def refuse_out_is_source(out: Path | None, src: Path, option: str = "--out") -> None:
    """Refuse an output folder that is the source folder itself (``radpipe convert SRC SRC``
    wrote among the DICOM files and then read its own ``convert.json`` back as a failed file;
    ``predict --out SRC`` wrote ``predictions.csv`` there). A subfolder of SRC is fine: the
    marks radpipe leaves in its output folders keep them from being read back as input.

    Raises
    ------
    ConfigError
        Naming both, as given (a usage error: exit code 2).
    """
    from pipeline.errors import ConfigError

    if out is None or not src.is_dir() or not out.exists() or out.resolve() != src.resolve():
        return
    raise ConfigError(
        f"{option} {out} is the source folder SRC {src} itself: radpipe would write among "
        "the files it reads. Give another output folder (a subfolder of SRC is fine: "
        "radpipe's outputs there are not read back as input)."
    )


def not_a_run(run_dir: Path) -> str:
    """Why ``run_dir`` is no run directory: not there (a mistyped name was said to have no
    ``config.yaml``, as if the folder were there), not a folder, or no ``config.yaml``."""
    if not run_dir.exists():
        return f"{run_dir}: no such run directory."
    if not run_dir.is_dir():
        return f"{run_dir} is a file, not a run directory."
    return f"{run_dir} is not a radpipe run directory (no config.yaml)."
