"""Change detection for resume: the stat facts of every source file when it was converted.

A rerun skips a file only when its outputs exist, are listed, and the file's stat facts are
those it had when it was converted: size, modification time, status-change time and inode,
the facts git's index compares (and :func:`workflows.run.rundir.fingerprint_files` hashes). A
file rewritten with its size and mtime restored (``cp -p``, ``rsync -a``, ``os.utime``) still
has a new ctime, which no user call can set back, and a file replaced by another of the same
name a new inode; nothing is read, so an untouched rerun stays as fast as before.

The facts go to ``OUT/.source-stat.csv`` (``source`` as in the manifest, then the four
numbers), written atomically after ``manifest.csv`` and ``sources.csv``; while a run goes on,
the facts of each flushed batch go to ``.source-stat.partial.NNNNN.csv`` after that batch's
partial manifest, so a file's facts are never on disk before its rows: a kill between the two
costs a conversion, never a stale output. The facts are taken in the main process before the
file's task is queued, so a file changed while it converts is seen by the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from sqlite3 import Connection

from pipeline.data.cache import stat_facts
from workflows.convert.resume import PARTIAL_STAT, STAT, STAT_COLUMNS, iter_csv, parts

_NUMBERS = STAT_COLUMNS[1:]


def file_facts(path: str | Path) -> str | None:
    """``size:mtime_ns:ctime_ns:ino`` of ``path`` (following links), ``None`` if it is gone."""
    try:
        return ":".join(map(str, stat_facts(path)))
    except OSError:
        return None


def as_row(source: str, facts: str) -> dict[str, str]:
    """A ``.source-stat.csv`` row."""
    return dict(zip(STAT_COLUMNS, [source, *facts.split(":")]))


class Facts:
    """This run's facts and the last run's, in the scratch store's database (not in memory).

    The last run's are read from ``OUT/.source-stat.csv`` and then every partial file, the
    last one of a source winning (the partial files are newer); load them only when the last
    run can be resumed from (:func:`~workflows.convert.resume.resumable`).
    """

    def __init__(self, db: Connection) -> None:
        self.db = db
        for table in ("facts", "prev_facts"):  # in the run's transaction (create_tables)
            db.execute(f"CREATE TABLE {table} (name TEXT PRIMARY KEY, stat TEXT)")

    def load_previous(self, out: Path) -> None:
        """The last run's facts: ``OUT/.source-stat.csv``, then the partial files."""
        rows = (r for p in (out / STAT, *parts(out, PARTIAL_STAT)) for r in iter_csv(p))
        self.db.executemany("INSERT OR REPLACE INTO prev_facts VALUES (?, ?)",
                            ((r["source"], _key(r)) for r in rows if r.get("source")))  # fmt: skip

    def add(self, name: str, path: str | Path) -> str | None:
        """Take the facts of file ``path`` (escaped name ``name``) now; returns them."""
        facts = file_facts(path)
        if facts is not None:
            self.db.execute("INSERT OR REPLACE INTO facts VALUES (?, ?)", (name, facts))
        return facts

    def changed(self, names: Iterable[str]) -> tuple[int, int]:
        """``(changed, unknown)``: how many of the files named (facts taken with :meth:`add`)
        differ from the last run's facts, and how many have none (never recorded, or gone)."""
        changed = unknown = 0
        for name in names:
            found = self.db.execute(
                "SELECT f.stat, p.stat FROM facts f LEFT JOIN prev_facts p USING (name) "
                "WHERE f.name = ?", (name,)).fetchone()  # fmt: skip
            if found is None or found[1] is None:
                unknown += 1
            elif found[0] != found[1]:
                changed += 1
        return changed, unknown

    def rows_of(self, names: Iterable[str]) -> list[dict[str, str]]:
        """This run's ``.source-stat.csv`` rows of the files named (each once)."""
        rows = []
        for name in dict.fromkeys(names):
            found = self.db.execute("SELECT stat FROM facts WHERE name = ?", (name,)).fetchone()
            if found is not None:
                rows.append(as_row(name, found[0]))
        return rows

    def all_rows(self) -> Iterator[dict[str, str]]:
        """Every fact of this run, by name."""
        found = self.db.execute("SELECT name, stat FROM facts ORDER BY name")
        return (as_row(name, stat) for name, stat in found)


def create_tables(db: Connection, script: str) -> None:
    """Run the ``;``-separated statements of ``script`` (``CREATE ...``, no ``;`` inside) in
    the scratch store's one transaction for the whole run. ``executescript`` would COMMIT it
    first, and every later statement would be a transaction of its own: a lock taken and
    released and the changed pages written for each row added (about 0.2 ms a file)."""
    for statement in filter(str.strip, script.split(";")):
        db.execute(statement)


def _key(row: dict[str, str]) -> str:
    return ":".join(row.get(c, "") for c in _NUMBERS)


__all__ = ["PARTIAL_STAT", "STAT", "STAT_COLUMNS", "Facts", "as_row", "create_tables", "file_facts",
           "stat_facts"]  # fmt: skip
