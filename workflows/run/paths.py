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

__all__ = ["PATH_KEYS", "anchor_paths", "relative_paths"]

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


def relative_paths(plain: dict[str, Any], base: Path) -> dict[str, Any]:
    """``plain`` (a config as plain types) with its path settings relative to ``base``."""
    for section, key in PATH_KEYS:
        node = plain.get(section) if section else plain
        if isinstance(node, dict) and node.get(key):
            node[key] = Path(os.path.relpath(node[key], base)).as_posix()
    return plain


def shown(path: Path) -> Path:
    """``path`` as a user should see it on the terminal: relative to the working directory
    when it lies below it (no absolute local path in logs), else unchanged."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
