"""The scratch store's SQLite file: its making (schema, pragmas) and its errors.

See :mod:`workflows.convert.store` for what it holds and why.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workflows.convert.tasks import MANIFEST_COLUMNS, SOURCE_COLUMNS


def sql_columns(names: list[str]) -> str:
    """``"a", "b"``: column names quoted for SQL."""
    return ", ".join(f'"{c}"' for c in names)


def sql_places(names: list[str]) -> str:
    """``?, ?``: one parameter per column."""
    return ", ".join("?" for _ in names)


_COLUMNS = sql_columns(MANIFEST_COLUMNS)
_SOURCE_COLUMNS = sql_columns(SOURCE_COLUMNS)


@contextmanager
def scratch_errors(path: Path) -> Iterator[None]:
    """A failure of the scratch store (a full disk, mostly) as the ``OSError`` it is, naming
    the file, instead of an ``sqlite3`` error: the batch cannot go on; rerun it with room."""
    try:
        yield
    except sqlite3.OperationalError as err:
        code = errno.ENOSPC if "full" in str(err) else errno.EIO
        raise OSError(code, f"{err} (the scratch file of this conversion)", str(path)) from err


def open_scratch(path: Path, exists: bool = False) -> tuple[Path, sqlite3.Connection]:
    """Create the scratch database at ``path`` (mode 0600; an old file there is replaced)."""
    if not exists:
        path.unlink(missing_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    db = sqlite3.connect(path, isolation_level=None)
    try:
        # a scratch file: no journal, no fsync, one lock for the whole run; a crash leaves a
        # temporary the next run removes. 1 MiB of page cache each for the file and for the
        # temporary b-trees of GROUP BY and ORDER BY (spilled to disk beyond that): memory
        # stays the same for any number of files
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE",
                       "cache_size=-1024", "temp.cache_size=-1024", "temp_store=FILE"):  # fmt: skip
            db.execute(f"PRAGMA {pragma}")
        db.executescript(
            f"""
            CREATE TABLE rows ({_COLUMNS});
            CREATE INDEX rows_source ON rows ("source");
            CREATE TABLE todo (rel BLOB);
            CREATE TABLE kept (name TEXT PRIMARY KEY);
            CREATE TABLE instances (name TEXT PRIMARY KEY, series_uid BLOB, facts BLOB,
                                    patient_id BLOB, study_uid BLOB, sop_uid BLOB);
            CREATE INDEX instances_series ON instances (series_uid);
            CREATE INDEX instances_sop ON instances (sop_uid);
            CREATE TABLE series (uid BLOB, patient_id BLOB, study_uid BLOB);
            CREATE TABLE previous ({_COLUMNS}, rank INTEGER);
            CREATE INDEX previous_source ON previous ("source");
            CREATE TABLE listed (output TEXT PRIMARY KEY);
            CREATE TABLE sources ({_SOURCE_COLUMNS});
            CREATE TABLE tasks (task BLOB);
            CREATE TABLE index_rows (series_uid BLOB, facts TEXT);
            CREATE INDEX index_rows_series ON index_rows (series_uid);
            """
        )
        db.execute("BEGIN")
    except BaseException:
        db.close()
        path.unlink(missing_ok=True)
        raise
    return path, db


__all__ = ["open_scratch", "scratch_errors", "sql_columns", "sql_places"]
