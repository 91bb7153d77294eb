"""Planning a conversion: what the last run finished and can keep, per file or per series.

Per series: every header into the store, then one task per series.

:func:`read_headers` reads the headers (in worker processes when a ``mapper`` is given) into
the scratch store and records the files that are no usable image; :func:`plan_series_task`
decides, for each assembled series, whether it is refused (a file of it failed), kept from the
last run, or converted; :func:`kept_instance` decides it for one file per instance.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from pipeline.dicom.failed_slices import gap_reason, repeated_slices
from pipeline.dicom.files import Problem, escape_name
from pipeline.dicom.index import Instance, Mapper, read_header, scan_headers
from workflows.convert.changes import create_tables
from workflows.convert.collect import SHARED_UID_NOTE, ConvertResult, as_ranks, collect
from workflows.convert.resume import (
    PARTIAL,
    PARTIAL_SOURCES,
    SOURCES,
    complete,
    iter_csv,
    parts,
)
from workflows.convert.shared_series import keys_follow, strict_refusal
from workflows.convert.sources import LEFT_OUT
from workflows.convert.store import Store, sql_columns, sql_places
from workflows.convert.tasks import MANIFEST_COLUMNS, SOURCE_COLUMNS, ConvertTask, series_output

#: ``(file, reason)`` as in ``errors.csv``.
Said = tuple[str, str]


def read_headers(
    root: Path, result: ConvertResult, store: Store, mapper: Mapper | None
) -> dict[str, list[Problem]]:
    """Every file's header into the store (problems into ``result``, in the order found);
    returns ``{series_key: [problem, ...]}`` of the files that failed in a series (see
    :func:`~pipeline.dicom.failed_slices.repeated_slices`)."""
    broken: dict[str, list[Problem]] = {}
    for header in scan_headers(root, mapper=mapper):
        if isinstance(header, Instance):
            store.add_instance(escape_name(header.path), header)
            continue
        (result.not_images if header.skipped else result.failures).append(
            (escape_name(header.where), header.reason)
        )
        if header.series_key:
            broken.setdefault(header.series_key, []).append(header)
    return broken


def plan_series_task(
    task: ConvertTask, instances: Sequence[Instance], out: Path, result: ConvertResult,
    store: Store, last: StoredPrevious | None,
    broken: dict[str, list[Problem]],
    shared: frozenset[str] = frozenset(),
    strict: bool = False,
    split: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """A series' task is refused (a file of it failed where no readable slice repeats it,
    :func:`failed_repeats`; under ``strict``, a file of it shares its SOPInstanceUID:
    ``shared``, or its series is one slice position of an acquisition split across UIDs:
    ``split``), kept from the last run (made of exactly its files, none changed since, each
    keyed as this run keys it), or queued."""
    if not failed_repeats(broken.get(task.series_key, []), instances, task, result):
        return
    names = [escape_name(source) for source in task.sources]
    refused = strict_refusal(task.sources, shared, split or {}) if strict else None
    if refused is not None:
        collect(refused, task, result, lambda _: None)
        return
    for name, source in zip(names, task.sources):
        store.facts.add(name, os.path.join(task.src_root, source))
    old, sources, dropped, failed = last.series(task) if last is not None else ([], [], [], [])
    prefix = series_output(task.patient_key, task.series_key, "npy").split(".")[0]
    if old and not keys_follow(sources, shared, store):  # a UID shared then or now, not both
        old = []
    if strict and any(r["problems"] for r in old):  # a run without --strict wrote it: refused
        old = []
    if not (complete(out, old) and all(r["output"].startswith(prefix) for r in old)):
        old = []  # an output gone, or a folder in its place: converted again (it was kept)
    if old:
        changed, unknown = store.facts.changed(names)
        result.changed += changed
        old = [] if changed or unknown else old
    if old:
        store.add_rows(old)
        store.add_sources(sources)
        result.not_images += dropped
        result.failures += failed  # left out for its pixels: still an error, said again
        result.skipped += 1
    else:  # the failed files number the volumes too (stable_stacks)
        failed_here = broken.get(task.series_key, [])
        store.add_task(replace(task, left_out=tuple(p.where for p in failed_here)))


def failed_repeats(
    failed: list[Problem], instances: Sequence[Instance], task: ConvertTask,
    result: ConvertResult,
) -> bool:  # fmt: skip
    """Whether the series can be converted without its failed files (each repeats the
    position of a readable slice, or was a volume of its own: its ``errors.csv`` reason then
    says it was left out);
    else its files are refused, naming the failed file whose absence would be a gap."""
    if not failed:
        return True
    repeats, gap = repeated_slices(failed, instances)
    if gap is not None:  # a volume without the failed file would have a hole
        why = gap_reason(gap)
        reason = f"not converted: its series failed on {escape_name(gap.where)}"
        reason += f", {why}" if why else ""
        result.failures += [(escape_name(source), reason) for source in task.sources]
        return False
    said = {escape_name(bad): why for bad, why in repeats.items()}
    result.failures[:] = [
        (name, f"{why}; {said[name]} {LEFT_OUT}")
        if name in said else (name, why)
        for name, why in result.failures
    ]  # fmt: skip
    return True


def kept_instance(
    root: Path, out: Path, store: Store, name: str, path: str, result: ConvertResult
) -> bool:
    """Keep the last run's rows of a file whose outputs all exist and which has not changed
    since (its stat facts); a changed one is counted and converted again. A file named by
    UID and file (its SOPInstanceUID was shared) is converted again, so that its name and
    note follow whether the UID is still shared."""
    old = store.previous_of(name)
    if not complete(out, old) or any(SHARED_UID_NOTE in (r["problems"] or "") for r in old):
        return False
    changed, unknown = store.facts.changed([name])
    result.changed += changed
    if changed or unknown:
        return False
    header = read_header(path, root)
    if not isinstance(header, Instance):
        return False
    store.add_rows(as_ranks(old))
    store.add_kept(name)  # counted as already done, should its rows be dropped later
    store.add_instance(name, header)
    result.skipped += 1
    return True


class StoredPrevious:
    """What the last per-series run into OUT finished, kept in the scratch store (not in
    memory): its manifest rows by output (the last one of an output wins, as the partial
    files came after the manifest), its ``sources.csv`` rows (each once), the files it
    skipped and those it left out of their series for their pixels (:data:`LEFT_OUT`). Load
    it only when :func:`~workflows.convert.resume.resumable` said that run can
    be resumed.
    """

    def __init__(self, out: Path, store: Store) -> None:
        self.db = store.db
        create_tables(
            self.db,
            f"""
            CREATE TABLE prev_outputs (key TEXT PRIMARY KEY, {_MANIFEST});
            CREATE TABLE prev_sources ({_SOURCES}, rank INTEGER, UNIQUE ({_SOURCES}, rank));
            CREATE INDEX prev_sources_source ON prev_sources ("source");
            CREATE INDEX prev_sources_output ON prev_sources ("output");
            CREATE TABLE prev_skips (source TEXT PRIMARY KEY, reason TEXT, kind TEXT);
            """,
        )
        manifest = (r for path in (out / "manifest.csv", *parts(out, PARTIAL))
                    for r in iter_csv(path))  # fmt: skip
        self.db.executemany(
            f"INSERT OR REPLACE INTO prev_outputs VALUES (?, {sql_places(MANIFEST_COLUMNS)})",
            ([r["output"], *(r.get(c, "") for c in MANIFEST_COLUMNS)] for r in manifest),
        )
        # each output as the newest file that lists it says (a partial file of a killed run
        # is newer than sources.csv): a series converted again may have other slices
        sources = ((rank, r) for rank, path in enumerate((out / SOURCES,
                   *parts(out, PARTIAL_SOURCES))) for r in iter_csv(path))  # fmt: skip
        self.db.executemany(
            f"INSERT OR IGNORE INTO prev_sources VALUES ({sql_places(SOURCE_COLUMNS)}, ?)",
            ([*(r.get(c, "") for c in SOURCE_COLUMNS), rank] for rank, r in sources),
        )
        self.db.execute(
            "DELETE FROM prev_sources WHERE rank < (SELECT MAX(rank) FROM prev_sources p "
            "WHERE p.output = prev_sources.output)"
        )
        skips = (r for r in iter_csv(out / "errors.csv") if r.get("kind") == "skipped"
                 or (r.get("kind") == "error" and r["reason"].endswith(LEFT_OUT)))  # fmt: skip
        self.db.executemany("INSERT OR REPLACE INTO prev_skips VALUES (?, ?, ?)",
                            ((r["source"], r["reason"], r["kind"]) for r in skips))  # fmt: skip

    def series(self, task: ConvertTask) -> tuple[list[dict[str, str]], list[dict[str, str]],
                                                 list[Said], list[Said]]:  # fmt: skip
        """The manifest and sources.csv rows of a series whose every file was converted,
        skipped or left out last time, into outputs made of exactly these files, and the
        ``(file, reason)`` of those skipped and of those left out; else nothing."""
        names = [escape_name(s) for s in task.sources]
        sources: list[dict[str, str]] = []
        said: dict[str, list[Said]] = {"skipped": [], "error": []}
        for name in names:
            found = self.db.execute(
                'SELECT * FROM prev_sources WHERE "source" = ? ORDER BY rowid', (name,)
            ).fetchall()
            sources += [dict(zip(SOURCE_COLUMNS, r)) for r in found]
            if not found:
                skip = self.db.execute("SELECT reason, kind FROM prev_skips WHERE source = ?",
                                       (name,)).fetchone()  # fmt: skip
                if skip is not None:
                    said[skip[1]].append((name, skip[0]))
        outputs = {r["output"] for r in sources}
        made_of = {
            m
            for o in outputs
            for (m,) in self.db.execute(
                'SELECT DISTINCT "source" FROM prev_sources WHERE "output" = ?', (o,)
            )
        }
        dropped, failed = said["skipped"], said["error"]
        complete = len({r["source"] for r in sources}) + len(dropped) + len(failed) == len(names)
        if not (complete and outputs and made_of <= set(names)):
            return [], [], [], []
        rows = []
        for output in sorted(outputs):
            row = self.db.execute(
                f"SELECT {_MANIFEST} FROM prev_outputs WHERE key = ?", (output,)
            ).fetchone()
            if row is None:
                return [], [], [], []
            rows.append(dict(zip(MANIFEST_COLUMNS, row)))
        return rows, sources, dropped, failed


_MANIFEST = sql_columns(MANIFEST_COLUMNS)
_SOURCES = sql_columns(SOURCE_COLUMNS)


__all__ = ["StoredPrevious", "failed_repeats", "kept_instance", "plan_series_task", "read_headers"]
