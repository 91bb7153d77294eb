"""Bounded per-process memos of what was read from files: least recently used dropped first.

The checks before a run directory and the run itself read the same files (headers, masks'
classes, frames); each reader keeps its results in an ``OrderedDict`` keyed by the file's
path, change time and size, bounded so that a process checking many studies does not grow
without limit (:data:`MAX_FILES` entries of at most a few kB each).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, TypeVar

__all__ = ["MAX_FILES", "keep", "used"]

#: Entries each file memo keeps (0.6 to 1.5 kB for a header): a source of more files is read
#: again by the checks that follow the first, with the same results.
MAX_FILES = 20_000

_V = TypeVar("_V")


def used(memo: OrderedDict[Any, Any], key: Any) -> bool:
    """Whether ``memo`` holds ``key``; if so it is marked the most recently used."""
    if key in memo:
        memo.move_to_end(key)
        return True
    return False


def keep(memo: OrderedDict[Any, _V], key: Any, value: _V, bound: int) -> _V:
    """Store ``value`` under ``key`` as the most recently used; return it.

    The least recently used entries past ``bound`` are dropped.
    """
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > bound:
        memo.popitem(last=False)
    return value
