"""The conversion cache of ``radpipe run``: its ``.complete`` mark, its lock, and whether it
can be reused (see :mod:`workflows.run.study`)."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.version import radpipe_version  # part of the conversion cache key

__all__ = ["DONE", "cache_problem", "locked", "radpipe_version", "read_csv_file"]

log = logging.getLogger("radpipe")

DONE = ".complete"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the file lock ``path``, waiting while another run converting the same data holds
    it; after a moment of waiting, one line names that process (until 2026-12-03: only
    "another run"), its holder file ``KEY.holder.json`` beside the lock (never in the cache
    folder itself)."""
    from pipeline.lock_holder import waiting_for

    def say(holder: str) -> None:
        log.info("waiting for another run converting the same data (%s) into the cache "
                 "%s; this run goes on when it is done", holder, path.stem)  # fmt: skip

    with waiting_for(path, say):
        yield


def cache_problem(out: Path) -> str | None:
    """Why the cached conversion in ``out`` cannot be reused, or ``None`` when it can: its
    ``.complete`` mark, ``manifest.csv``, ``errors.csv`` and output files must agree."""
    done = out / DONE
    if not done.is_file():
        return "not converted yet"
    mark = json.loads(done.read_text())
    rows = read_csv_file(out / "manifest.csv")
    outputs = len({r["output"] for r in rows})
    if outputs != mark.get("outputs"):
        return f"manifest.csv lists {outputs} outputs, the conversion made {mark.get('outputs')}"
    errors = [r for r in read_csv_file(out / "errors.csv") if r.get("kind", "error") == "error"]
    if len(errors) != mark.get("failures", len(errors)):  # (skipped non-images not counted)
        return f"errors.csv lists {len(errors)} failures, the conversion had {mark['failures']}"
    missing = [r["output"] for r in rows if not (out / r["output"]).is_file()]
    if missing:
        return f"{len(missing)} of {len(rows)} output files are missing (e.g. {missing[0]})"
    return None


def read_csv_file(path: Path) -> list[dict[str, str]]:
    """The rows of the CSV ``path`` of a conversion; none when it is not there."""
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))
