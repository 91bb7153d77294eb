"""Header checks done once per series: results reused while the values they read repeat.

The files of a series repeat most of their header (sizes, bits, photometric, spacing,
orientation, rescale, windows, kernel, echo): the checks of :mod:`pipeline.dicom.header_checks`
and the frame facts of :mod:`pipeline.dicom.frames` give the same answer for each. On a
:class:`~pipeline.dicom.plain.PlainDataset` read inside :func:`~pipeline.dicom.plain.try_plain`,
:func:`memoized` records which elements a check reads (their VR and value bytes, or their
absence) and keeps its result; the next file whose elements are byte for byte the same gets
that result without the check being run again.

What makes this safe:

- the key is the function, its other arguments, the File Meta values the plain reading
  holds (TransferSyntaxUID, MediaStorageSOPClassUID) and the SeriesInstanceUID's bytes (so
  that files of several series read in turn each find their series' results); every element
  read through ``get``, ``in`` or attribute access is recorded and compared;
- a check that reads anything else (an element read by pydicom: a sequence, a private tag,
  a value that is not clean; the data set's length or keys) is not kept;
- a check that raises is not kept, and results are kept only when the whole reading was
  clean (:func:`~pipeline.dicom.plain.try_plain` commits them): no warning, no note, no
  problem, so a file that is not clean is always checked in full (and then by pydicom);
- one entry per function, arguments and series, at most ``_MAX_KEPT`` (the oldest go first;
  a multi-frame file with more frame facts than that keeps its own), so memory is bounded:
  about 3 KB an entry and 8 entries a series, so about 0.8 MB for the last 32 series read
  (4,096 entries held 13 MB and made a 100,000-file conversion's peak RSS 1.16x a 1,000-file
  one's; issue 15's memory row).

``ENABLED = False`` runs every check (``tests/pipeline/dicom/test_plain_memo.py`` compares
both on pydicom's files and generated variants).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

#: Switch for tests and for comparison runs: ``False`` runs every check on every file.
ENABLED = True

#: (function, arguments, File Meta values) -> (elements read with their state, result).
_KEPT: dict[Hashable, tuple[Any, Any]] = {}  # key -> (element states, result)
_LOCAL = threading.local()
#: At most this many results are kept (about 8 a series; one per frame for frame facts).
_MAX_KEPT = 256


class session:  # a function to its callers: ``with session() as staged``
    """Results of :func:`memoized` calls made inside, to be kept only if :func:`commit`-ted.

    A class, not a generator context manager: entered once per file read (~1 us less).
    """

    __slots__ = ("_outer", "_staged")

    def __enter__(self) -> list[tuple[Hashable, Any]]:
        self._staged: list[tuple[Hashable, Any]] = []
        self._outer = getattr(_LOCAL, "staged", None)
        _LOCAL.staged = self._staged
        return self._staged

    def __exit__(self, *exc: object) -> None:
        _LOCAL.staged = self._outer


class NotClean(Exception):
    """Raised inside :func:`session` when a check found something to note.

    The reading is not clean, so :func:`pipeline.dicom.plain.try_plain` reads the file with
    pydicom.
    """


def active() -> bool:
    """Whether a :func:`session` is open in this thread (a reading inside ``try_plain``)."""
    return getattr(_LOCAL, "staged", None) is not None


def commit(staged: list[tuple[Hashable, Any]]) -> None:
    """Keep the results of a clean reading (see the module)."""
    room = max(_MAX_KEPT - len(staged), 0)  # a long multi-frame file keeps its own frames
    while len(_KEPT) > room:  # the oldest first: the files of the series read last stay
        del _KEPT[next(iter(_KEPT))]
    for key, entry in staged:
        _KEPT[key] = entry


def clear() -> None:
    """Forget every kept result (tests)."""
    _KEPT.clear()


def memoized(fn: Callable[..., T], ds: Any, *args: Hashable) -> T:
    """``fn(ds, *args)``, or its kept result when ``ds`` repeats the values it read.

    ``fn`` must be a function of the data set's element values and of ``args`` only (no
    file name, no state). Outside a :func:`session`, or for a data set that is not a plain
    reading, it is simply called.
    """
    staged = getattr(_LOCAL, "staged", None)
    reads = getattr(ds, "memo_reads", None)
    if not ENABLED or staged is None or reads is None:
        return fn(ds, *args)
    key = (fn, args, ds.memo_meta)
    kept = _KEPT.get(key)
    if kept is not None and ds.memo_same(kept[0]):
        ds.memo_note(kept[0])
        return copy.copy(kept[1])
    with reads() as read:
        result = fn(ds, *args)
    if read.complete:
        staged.append((key, (ds.memo_states(read.keys), copy.copy(result))))
    return result


class Reads:
    """The keys a check asked a data set for, and whether it asked for nothing else."""

    __slots__ = ("complete", "keys")

    def __init__(self) -> None:
        self.keys: set[str | int] = set()
        self.complete = True


__all__ = [
    "ENABLED", "NotClean", "Reads", "active", "clear", "commit", "memoized", "session"
]  # fmt: skip
