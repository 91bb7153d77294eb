"""Where each row of a CSV radpipe resolved from ``file`` keys came from.

A labels or masks CSV keyed by ``file`` is resolved into ``RUN/truth/`` keyed by hashed UIDs
(:mod:`workflows.run.truth`). Messages about its rows named the hashed keys (``e.g.
8c1f...``), which the user cannot find in their file, or the line of radpipe's copy under
the user's file name (one row per series there, one per file in theirs). Each resolved row
now keeps the user's ``file`` (relative to ``data.source``, :data:`FILE_COLUMN`) and its
line in their CSV (:data:`LINE_COLUMN`), and :func:`user_lines` gives rows read back that
line, so every message names the user's line and file, never a key.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from pipeline.cells import CsvRow, csv_frame, csv_rows, csv_text

__all__ = [
    "FILE_COLUMN",
    "LINE_COLUMN",
    "name_rows",
    "resolved_mask_rows",
    "source_values",
    "user_lines",
]

#: The columns of a resolved CSV holding the line of the user's CSV the row comes from, and
#: its ``file`` (named apart from ``file``: the copy is keyed by UIDs, not by file).
LINE_COLUMN, FILE_COLUMN = "csv_line", "csv_file"
_FILE = "file"


def source_values(row: CsvRow, rel: str) -> dict[str, str]:
    """The cells of a user's ``file``-keyed row without ``file``, then its ``file`` as a path
    relative to ``data.source`` (``rel``, never absolute) and its line."""
    cells = {c: v for c, v in row.items() if c not in (_FILE, FILE_COLUMN, LINE_COLUMN, None)}
    return {**cells, FILE_COLUMN: rel, LINE_COLUMN: str(row.line)}


def user_lines(rows: list[CsvRow]) -> list[CsvRow]:
    """``rows`` of a CSV, each ``line`` the user's when it is a resolved copy (unchanged
    otherwise)."""
    for row in rows:
        if (row.get(LINE_COLUMN) or "").isdigit():
            row.line = int(row[LINE_COLUMN])
    return rows


def name_rows(rows: Iterable[tuple[int, str]], shown: int = 5) -> str:
    """``line 3 (a/b.dcm)``, ``lines 3 (a/b.dcm), 8 (c.dcm) and 2 more``: rows by line and
    file, in line order, the first ``shown`` named.

    Examples
    --------
    >>> name_rows([(8, "c.dcm"), (3, "a/b.dcm"), (9, "d.dcm")], shown=2)
    'lines 3 (a/b.dcm), 8 (c.dcm) and 1 more'
    """
    ordered = sorted(rows)
    more = f" and {len(ordered) - shown} more" if len(ordered) > shown else ""
    named = ", ".join(f"{line} ({rel})" for line, rel in ordered[:shown])
    return "line" + "s" * (len(ordered) > 1) + " " + named + more


def resolved_mask_rows(path: Path, keys: Iterable[tuple[str, int]], shown: int = 5) -> str:
    """The rows of a resolved masks CSV (``path``) with the given ``(instance_key, frame)``,
    named by the user's line and file (:func:`name_rows`, ``frame N`` after the file)."""
    wanted = set(keys)
    found = []
    for row in user_lines(list(csv_rows(csv.DictReader(csv_text(path))))):
        frame = csv_frame(row.get("frame"))
        if (row.get("instance_key") or "", frame) in wanted:
            found.append((row.line, f"{row.get(FILE_COLUMN) or '?'} frame {frame}"))
    return name_rows(found, shown)
