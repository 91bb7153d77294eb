"""The collector's scratch store: what a per-file conversion gathers, on disk, not in memory.

A conversion of N files gathers N manifest rows and N instances' header facts (UIDs, geometry,
frame references) that series assembly needs at the end. Held as Python objects they cost
about 5 KB per file (600 MB for 100,000 files); here they go into a SQLite file in OUT while
the run goes on, and come back one series at a time, so the collector's memory does not grow
with the number of files.

The file (``OUT/.collect.tmp.sqlite``) is created empty by the run that holds the lock on OUT
(its name matches the temporaries a new run removes first), is private to that run (mode 0600)
and is deleted when the run ends. Where SQLite cannot work in OUT (a network file system
without locks), the file goes to the system's temporary folder instead, with a warning.
Instances are stored as pickled records of their field values
(:mod:`workflows.convert.instance_record`): this process's own objects, written and read back
by the same run (never a file of another run).
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.dicom.index import Instance
from pipeline.dicom.notes import cell_notes, join_notes
from workflows.convert.changes import Facts
from workflows.convert.instance_record import dump_instance, load_instance
from workflows.convert.store_db import open_scratch as _open
from workflows.convert.store_db import scratch_errors, sql_columns, sql_places
from workflows.convert.tasks import MANIFEST_COLUMNS, SOURCE_COLUMNS, ConvertTask

NAME = ".collect.tmp.sqlite"
#: Rows and instances added are written to SQLite this many at a time (one ``executemany``),
#: or before anything else reads or changes the store: one call per file cost about 2x more.
BATCH = 256

Row = dict[str, str]
_COLUMNS = sql_columns(MANIFEST_COLUMNS)
_PLACES = sql_places(MANIFEST_COLUMNS)
_SOURCE_COLUMNS = sql_columns(SOURCE_COLUMNS)


class Store:
    """Manifest rows, instances and the previous run's rows of one conversion, in SQLite.

    Rows are ``dict[str, str]`` with the :data:`MANIFEST_COLUMNS` keys; they come back in
    insertion order unless said otherwise. Use as a context manager: the file is removed on
    exit, also when the run fails.
    """

    def __init__(self, out: Path) -> None:
        try:
            self.path, self._db = _open(out / NAME)
        except (OSError, sqlite3.Error) as err:  # a file system SQLite cannot lock (some NFS)
            import logging
            import tempfile

            fd, name = tempfile.mkstemp(prefix="radpipe-collect-", suffix=".sqlite")
            os.close(fd)
            logging.getLogger("radpipe").warning(
                "the scratch file of this conversion is in the system's temporary folder "
                "(SQLite could not use one in OUT: %s)", type(err).__name__)  # fmt: skip
            self.path, self._db = _open(Path(name), exists=True)
        self._rows: list[list[str]] = []  # added, not yet written (see BATCH)
        self._instances: list[tuple[Any, ...]] = []
        self.facts = Facts(self._db)  # the source files' stat facts, this run's and the last

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, the rows and instances added so far written first."""
        if self._rows or self._instances:
            self._write_added()
        return self._db

    def _write_added(self) -> None:
        rows, self._rows, instances, self._instances = self._rows, [], self._instances, []
        self._db.executemany(f"INSERT INTO rows ({_COLUMNS}) VALUES ({_PLACES})", rows)
        # a later instance of the same name keeps the first one's place (as a dict would)
        self._db.executemany(
            "INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "series_uid = excluded.series_uid, facts = excluded.facts, "
            "patient_id = excluded.patient_id, study_uid = excluded.study_uid, "
            "sop_uid = excluded.sop_uid", instances)  # fmt: skip

    def close(self) -> None:
        """Close and delete the file (idempotent); what was added and not written is dropped
        with it."""
        self._rows, self._instances = [], []
        if self._db is not None:
            self._db.close()
            self._db = None  # type: ignore[assignment]
        self.path.unlink(missing_ok=True)

    # -- manifest rows -------------------------------------------------------------------
    def add_rows(self, rows: Iterable[dict[str, str]], table: str = "rows") -> None:
        values = ([row.get(c, "") for c in MANIFEST_COLUMNS] for row in rows)
        if table != "rows":
            self.db.executemany(f"INSERT INTO {table} ({_COLUMNS}) VALUES ({_PLACES})", values)
            return
        self._rows += values
        if len(self._rows) >= BATCH:
            self._write_added()

    def rows_of(self, source: str, table: str = "rows") -> list[dict[str, str]]:
        """The rows of one source (escaped name), in insertion order."""
        found = self.db.execute(f'SELECT * FROM {table} WHERE "source" = ? ORDER BY rowid',
                                (source,))  # fmt: skip
        return [dict(zip(MANIFEST_COLUMNS, r)) for r in found]

    def update_rows(
        self, source: str, change: Callable[[list[dict[str, str]]], list[dict[str, str]]],
        columns: Sequence[str] = MANIFEST_COLUMNS,
    ) -> None:  # fmt: skip
        """Replace the rows of ``source`` by ``change(rows)`` (as many, in the same order).

        ``columns``: the only columns ``change`` reads and writes (the rows it gets hold only
        them); the others stay as they are.
        """
        self.update_rows_of([source], change, columns)

    def update_rows_of(
        self, sources: Sequence[str], change: Callable[[list[Row]], list[Row]],
        columns: Sequence[str] = MANIFEST_COLUMNS,
    ) -> None:  # fmt: skip
        """:meth:`update_rows` of each source in turn, in one query and one update per few
        hundred sources (a series' files), not two per file."""
        names = sql_columns(list(columns))
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        for start in range(0, len(sources), 500):  # SQLite takes 999 parameters at least
            chunk = sources[start : start + 500]
            found: dict[str, list[Any]] = {source: [] for source in chunk}
            places = sql_places(list(chunk))
            for r in self.db.execute(f'SELECT rowid, "source", {names} FROM rows WHERE "source" '
                                     f"IN ({places}) ORDER BY rowid", chunk):  # fmt: skip
                found[r[1]].append(r)
            updates: list[list[str | int]] = []
            for held in found.values():
                rows = change([dict(zip(columns, r[2:])) for r in held]) if held else []
                updates += (
                    [*(row.get(c, "") for c in columns), r[0]] for r, row in zip(held, rows)
                )
            self.db.executemany(f"UPDATE rows SET {sets} WHERE rowid = ?", updates)

    def drop_source(self, source: str) -> None:
        self.db.execute('DELETE FROM rows WHERE "source" = ?', (source,))

    def sorted_rows(self) -> Iterator[dict[str, str]]:
        """Every row ordered by patient, series and output name (the manifest's order)."""
        found = self.db.execute(
            'SELECT * FROM rows ORDER BY "patient_key", "series_key", "output", rowid'
        )
        return (dict(zip(MANIFEST_COLUMNS, r)) for r in found)

    def volume_problems(self, first: dict[str, str]) -> dict[str, dict[str, list[str]]]:
        """``{series_key: {volume: problems}}`` of every series with a row with problems: each
        volume's problems (the manifest's ``volume``) joined once over its rows, in the order
        added; a volume of such a series without any has ``[]``. ``first`` gets each such
        series' first source file (the manifest's ``source``: relative, escaped)."""
        found: dict[str, dict[str, list[str]]] = {}
        for key, volume, problems, source in self.db.execute(
            'SELECT "series_key", "volume", "problems", "source" FROM rows WHERE "series_key" '
            'IN (SELECT "series_key" FROM rows WHERE "problems" != \'\') ORDER BY rowid'
        ):
            first[key] = min(first.get(key, source), source)
            said = found.setdefault(key, {}).setdefault(volume, [])
            said += [p for p in cell_notes(problems) if p not in said]
        return found

    def problem_sources(self) -> dict[str, str]:
        """``{source: problems}`` of every source with a row with problems (joined once)."""
        found: dict[str, list[str]] = {}
        for source, problems in self.db.execute(
            'SELECT "source", "problems" FROM rows WHERE "problems" != \'\' ORDER BY rowid'
        ):
            found.setdefault(source, []).extend(cell_notes(problems))
        return {source: join_notes(items) for source, items in found.items()}

    def output_count(self) -> int:
        return int(self.db.execute('SELECT COUNT(DISTINCT "output") FROM rows').fetchone()[0])

    def shared_outputs(self) -> list[tuple[str, ...]]:
        """The sets of sources that wrote one output name, or one instance key and frame (the
        same SOPInstanceUID in files of two series: a mask or a prediction joined by the UID
        could not tell them apart); each sorted, the list sorted."""
        key = '"instance_key" || \'|\' || "frame"'
        found = self.db.execute(
            'SELECT "output", "source" FROM rows WHERE "output" IN (SELECT "output" FROM rows '
            'GROUP BY "output" HAVING COUNT(DISTINCT "source") > 1) UNION ALL '
            f'SELECT {key}, "source" FROM rows WHERE "instance_key" != \'\' AND {key} IN '
            f'(SELECT {key} FROM rows GROUP BY {key} HAVING COUNT(DISTINCT "source") > 1)'
        )
        by_output: dict[str, set[str]] = {}
        for output, source in found:
            by_output.setdefault(output, set()).add(source)
        return sorted({tuple(sorted(s)) for s in by_output.values()})

    # -- sources.csv rows (per series) -----------------------------------------------------
    def add_sources(self, rows: Iterable[dict[str, str]]) -> None:
        self.db.executemany(f"INSERT INTO sources VALUES ({sql_places(SOURCE_COLUMNS)})",
                            ([r.get(c, "") for c in SOURCE_COLUMNS] for r in rows))  # fmt: skip

    def sorted_sources(self) -> Iterator[dict[str, str]]:
        """``sources.csv`` rows by patient, series and output; each volume's rows in the order
        added (slice order)."""
        found = self.db.execute(
            'SELECT * FROM sources ORDER BY "patient_key", "series_key", "output", rowid'
        )
        return (dict(zip(SOURCE_COLUMNS, r)) for r in found)

    # -- per-series tasks ----------------------------------------------------------------
    def add_task(self, task: ConvertTask) -> None:
        self.db.execute("INSERT INTO tasks VALUES (?)", (pickle.dumps(task),))

    def task_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])

    def tasks(self) -> Iterator[ConvertTask]:
        found = self.db.execute("SELECT task FROM tasks ORDER BY rowid")
        return (pickle.loads(blob) for (blob,) in found)  # this run's own objects

    # -- the previous run ----------------------------------------------------------------
    def add_listed(self, outputs: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO listed VALUES (?)", ((o,) for o in outputs))

    def unlisted_now(self) -> Iterator[str]:
        """Outputs an earlier run listed that this run's rows do not (sorted)."""
        found = self.db.execute(
            'SELECT output FROM listed WHERE output NOT IN (SELECT "output" FROM rows) '
            "ORDER BY output"
        )
        return (o for (o,) in found)

    def forget_listed(self) -> int:
        """Forget the outputs listed so far (another folder's: kept, never removed); returns
        how many there were."""
        count = int(self.db.execute("SELECT COUNT(*) FROM listed").fetchone()[0])
        self.db.execute("DELETE FROM listed")
        return count

    def add_previous(self, rows: Iterable[dict[str, str]], rank: int = 0) -> None:
        """Rows of one file of the last run; a file of higher ``rank`` is newer."""
        self.db.executemany(
            f"INSERT INTO previous VALUES ({_PLACES}, ?)",
            ([*(row.get(c, "") for c in MANIFEST_COLUMNS), rank] for row in rows),
        )

    def previous_of(self, source: str) -> list[dict[str, str]]:
        """The previous run's rows of ``source`` in the newest file that lists it (a partial
        file of a killed run is newer than the manifest), each ``(source, output)`` once."""
        found = self.db.execute(
            'SELECT * FROM previous WHERE "source" = ?1 AND rank = (SELECT MAX(rank) FROM '
            'previous WHERE "source" = ?1) ORDER BY rowid', (source,))  # fmt: skip
        rows, seen = [], set()
        for row in (dict(zip(MANIFEST_COLUMNS, r)) for r in found):
            if row["output"] not in seen:
                seen.add(row["output"])
                rows.append(row)
        return rows

    def has_previous(self) -> bool:
        return self.db.execute("SELECT 1 FROM previous LIMIT 1").fetchone() is not None

    def add_kept(self, name: str) -> None:
        """The rows of ``name`` are the last run's, kept (counted as already done)."""
        self.db.execute("INSERT OR IGNORE INTO kept VALUES (?)", (name,))

    def unkeep(self, name: str) -> bool:
        """Whether the rows of ``name`` were kept (:meth:`add_kept`); no longer."""
        return self.db.execute("DELETE FROM kept WHERE name = ?", (name,)).rowcount > 0

    # -- files to convert ---------------------------------------------------------------
    def add_todo(self, rel: str) -> None:
        self.db.execute("INSERT INTO todo VALUES (?)", (_blob(rel),))

    def todo_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM todo").fetchone()[0])

    def todo(self) -> Iterator[str]:
        """The files to convert (paths relative to the source folder), in the order added."""
        found = self.db.execute("SELECT rel FROM todo ORDER BY rowid")
        return (_text(rel) for (rel,) in found)

    # -- instances -----------------------------------------------------------------------
    def add_instance(self, name: str, instance: Instance) -> None:
        """The header facts of the file named ``name`` (escaped); a later one replaces it."""
        blob = dump_instance(instance)
        self._instances.append((name, _blob(instance.series_uid), blob, _blob(instance.patient_id),
                                _blob(instance.study_uid), _blob(instance.sop_uid)))  # fmt: skip
        if len(self._instances) >= BATCH:
            self._write_added()

    def sop_uid_of(self, name: str) -> str | None:
        """The SOPInstanceUID of the file named ``name`` (escaped); ``None`` if unknown."""
        found = self.db.execute("SELECT sop_uid FROM instances WHERE name = ?", (name,)).fetchone()
        return None if found is None or found[0] is None else _text(found[0])

    def sharing_uid(self) -> list[Instance]:
        """The instances whose SOPInstanceUID another file (another name) has too."""
        found = self.db.execute(
            "SELECT facts FROM instances WHERE sop_uid IN (SELECT sop_uid FROM instances "
            "GROUP BY sop_uid HAVING COUNT(*) > 1) ORDER BY rowid"
        )
        return [load_instance(blob) for (blob,) in found]  # this run's own objects

    def series_uids(self) -> Iterator[str]:
        """Every SeriesInstanceUID, in the order its first instance was added."""
        found = self.db.execute(
            "SELECT series_uid FROM instances GROUP BY series_uid ORDER BY MIN(rowid)"
        ).fetchall()  # one string per series, not per file
        return (_text(u) for (u,) in found)

    def instances_of(self, series_uid: str) -> list[Instance]:
        found = self.db.execute(
            "SELECT facts FROM instances WHERE series_uid = ? ORDER BY rowid", (_blob(series_uid),)
        )
        return [load_instance(blob) for (blob,) in found]  # this run's own objects

    # -- assembled series: index.csv -----------------------------------------------------
    def add_series(
        self, uid: str, patient_id: str, study_uid: str, rows: Iterable[dict[str, Any]]
    ) -> None:
        """An assembled series: what orders it in the index (PatientID, StudyInstanceUID,
        its UID, as :func:`~pipeline.dicom.index.assemble_series` does) and its ``index.csv``
        rows."""

        self.db.execute("INSERT INTO series VALUES (?, ?, ?)",
                        (_blob(uid), _blob(patient_id), _blob(study_uid)))  # fmt: skip
        self.add_index_rows(uid, rows)

    def order_series(self, first_ids: Callable[[str], tuple[str, str]]) -> None:
        """Record every series' place in the index order without assembling it when all its
        instances share PatientID and StudyInstanceUID (nearly always); otherwise
        ``first_ids(uid)`` gives those of its first instance in slice order."""
        found = self.db.execute(
            "SELECT series_uid, MIN(patient_id), MAX(patient_id), MIN(study_uid), "
            "MAX(study_uid) FROM instances GROUP BY series_uid ORDER BY MIN(rowid)"
        ).fetchall()  # one row per series
        for uid, low_patient, high_patient, low_study, high_study in found:
            if low_patient == high_patient and low_study == high_study:
                patient, study = low_patient, low_study
            else:
                patient, study = map(_blob, first_ids(_text(uid)))
            self.db.execute("INSERT INTO series VALUES (?, ?, ?)", (uid, patient, study))

    def add_index_rows(self, uid: str, rows: Iterable[dict[str, Any]]) -> None:
        """The ``index.csv`` rows of a series recorded by :meth:`order_series`."""
        import json

        self.db.executemany("INSERT INTO index_rows VALUES (?, ?)",
                            ((_blob(uid), json.dumps(r)) for r in rows))  # fmt: skip

    def ordered_series(self) -> Iterator[str]:
        """The UIDs of the series recorded (:meth:`add_series`, :meth:`order_series`), in
        index order."""
        found = self.db.execute("SELECT uid FROM series ORDER BY patient_id, study_uid, uid")
        return (_text(u) for (u,) in found.fetchall())  # one string per series

    def index_rows(self) -> Iterator[dict[str, Any]]:
        """The ``index.csv`` rows of every series, series in index order."""
        import json

        found = self.db.execute(
            "SELECT i.facts FROM series s JOIN index_rows i ON i.series_uid = s.uid "
            "ORDER BY s.patient_id, s.study_uid, s.uid, i.rowid"
        )
        return (json.loads(f) for (f,) in found)


def _blob(text: str) -> bytes:
    """Any Python string as bytes whose order is the string's (UTF-8 keeps code-point order;
    ``surrogatepass`` also keeps the undecodable bytes of a file name or a bad header)."""
    return text.encode("utf-8", "surrogatepass")


def _text(blob: bytes) -> str:
    return blob.decode("utf-8", "surrogatepass")


__all__ = ["BATCH", "NAME", "Store", "scratch_errors", "sql_columns", "sql_places"]
