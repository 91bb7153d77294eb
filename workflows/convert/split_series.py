"""One acquisition filed under several SeriesInstanceUIDs (Canon classic exports) in ``convert``.

:func:`~pipeline.dicom.split_uids.split_series_notes` finds the series that each hold one slice
position of one acquisition; ``inspect`` lists the note on each, and ``convert`` puts it in
the ``problems`` of their rows: per instance through the series' problems
(:func:`split_notes`), per series on the volumes' rows and the series' warning
(:func:`mark_series_result`). Only the instances of one series are in memory at a time.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.dicom.files import escape_name
from pipeline.dicom.notes import add_notes
from pipeline.dicom.split_uids import split_series_notes
from workflows.convert.shared_series import mark_shared
from workflows.convert.store import Store
from workflows.convert.tasks import TaskResult

__all__ = ["mark_series_result", "split_notes", "split_sources"]


def split_notes(store: Store) -> dict[str, str]:
    """``{series_uid: note}`` of the store's series (see :mod:`pipeline.dicom.split_uids`)."""
    return split_series_notes((uid, store.instances_of(uid)) for uid in store.series_uids())


def split_sources(store: Store) -> dict[str, str]:
    """``{escaped source name: note}`` of every file of a noted series."""
    return {escape_name(inst.path): note for uid, note in split_notes(store).items()
            for inst in store.instances_of(uid)}  # fmt: skip


def mark_series_result(
    res: TaskResult, shared: frozenset[str], split: dict[str, str]
) -> TaskResult:
    """A series' result marked for shared UIDs (:func:`~workflows.convert.shared_series.
    mark_shared`) and, when its files are a noted series', with that note on each row and
    in its problems."""
    res = mark_shared(res, shared)
    notes = list(dict.fromkeys(split[r["source"]] for r in res.sources if r["source"] in split))
    if res.error is not None or not notes:
        return res
    rows = tuple({**r, "problems": add_notes(r["problems"], notes)}
                 for r in res.rows)  # fmt: skip
    return replace(res, rows=rows, problems=res.problems + tuple(notes))
