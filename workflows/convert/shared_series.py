"""Files that share a SOPInstanceUID in a per-series conversion (``--per series``).

Per instance, such files are named by UID and file (:func:`~workflows.convert.collect.
resolve_collisions`). Per series the volumes hold every file's pixels anyway (assembly drops
only a frame whose pixels repeat one at the same position), but ``sources.csv`` gave both
files one ``instance_key``, ``hash_key(SOPInstanceUID)``, with no note, so a slice label
joined by the UID went to both slices. The files :func:`~pipeline.dicom.shared_uid.
note_shared_uids` notes (as ``inspect`` does) now get the per-instance key
:func:`~pipeline.dicom.shared_uid.shared_instance_key` in ``sources.csv`` and their volumes'
manifest rows the note :func:`series_note`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pipeline.dicom.files import escape_name
from pipeline.dicom.notes import add_notes
from pipeline.dicom.shared_uid import SHARED_UID_NOTE, note_shared_uids, shared_instance_key
from pipeline.keys import hash_key
from workflows.convert.reasons import strict_reason
from workflows.convert.store import Store
from workflows.convert.tasks import TaskResult

#: The kind of the note (as per instance): what comes before its first colon.
SHARED_KIND = SHARED_UID_NOTE.split(":", 1)[0]


def shared_sources(store: Store, root: Path) -> frozenset[str]:
    """The escaped names of the files whose SOPInstanceUID another file with other bytes
    shares (a byte-identical copy is a duplicate, not a second image): only these files are
    read in full, to compare their bytes."""
    noted = note_shared_uids(store.sharing_uid(), root)
    return frozenset(escape_name(i.path) for i in noted if SHARED_UID_NOTE in i.notes)


def series_note(names: list[str]) -> str:
    """The manifest note of a volume holding files (``names``, escaped) whose UID is shared;
    at most three are named."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return (f"{SHARED_KIND}: instance_key in sources.csv made from UID and file for "
            f"{', '.join(names[:3])}{more}")  # fmt: skip


def mark_shared(res: TaskResult, shared: frozenset[str]) -> TaskResult:
    """A series' result with the shared files' ``sources.csv`` keys made from UID and file
    and each volume holding one noted in ``problems``; others unchanged."""
    if res.error is not None or not shared.intersection(r["source"] for r in res.sources):
        return res
    noted: dict[str, list[str]] = {}
    sources = []
    for row in res.sources:
        if row["source"] in shared:
            key = shared_instance_key(row["instance_key"], row["source"])
            row = {**row, "instance_key": key}
            names = noted.setdefault(row["output"], [])
            names += [row["source"]] if row["source"] not in names else []
        sources.append(row)
    rows = []
    for row in res.rows:
        if row["output"] in noted:
            note = series_note(noted[row["output"]])
            row = {**row, "problems": add_notes(row["problems"], [note])}
        rows.append(row)
    notes = tuple(series_note(n) for n in noted.values())
    return replace(res, rows=tuple(rows), sources=tuple(sources), problems=res.problems + notes)


def keys_follow(rows: list[dict[str, str]], shared: frozenset[str], store: Store) -> bool:
    """Whether the last run's ``sources.csv`` ``rows`` of a series have the keys this run
    gives (made from UID and file exactly for the ``shared`` files), so that they and their
    volumes' notes can be kept; a file that shares its UID now and did not then, or the
    reverse, has its series converted again."""
    for row in rows:
        uid = store.sop_uid_of(row["source"])
        if uid is None:
            return False
        key = hash_key(uid)
        if row["instance_key"] != (shared_instance_key(key, row["source"])
                                   if row["source"] in shared else key):  # fmt: skip
            return False
    return True


def strict_refusal(
    sources: tuple[str, ...], shared: frozenset[str], split: dict[str, str]
) -> TaskResult | None:
    """Under ``--strict``, a series with a shared file (or one that ``split`` notes: a slice
    position of an acquisition split across SeriesInstanceUIDs) is refused before it is
    converted, as a series with any other problem: the error its task would have had; else
    ``None``."""
    names = [n for n in map(escape_name, sources) if n in shared]
    said = [split[n] for n in map(escape_name, sources) if n in split][:1]
    said += [series_note(names)] if names else []
    if not said:
        return None
    reason = strict_reason(said)
    return TaskResult(sources[0], error=reason, error_source=sources[0])


__all__ = [
    "SHARED_KIND",
    "keys_follow",
    "mark_shared",
    "series_note",
    "shared_sources",
    "strict_refusal",
]
