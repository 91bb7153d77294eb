"""The cycle collector spared the objects that were there before a long scan."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Inside, the cycle collector does not traverse the objects made before (``gc.freeze``).

    An index keeps an :class:`~pipeline.dicom.header.Instance` for each file, so the objects
    it keeps add up to full collections, and each full collection traverses every object of
    the process: the modules, and in a notebook or training process everything it holds.
    Frozen, those are left out; the index's own objects are collected as ever, and the
    frozen ones again after the scan (a cycle of them that became garbage inside is freed
    then). Nothing is frozen when the caller froze objects itself or turned the collector
    off, and nothing of theirs is unfrozen.
    """
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


__all__ = ["older_objects_frozen"]
