"""Resume of batch conversion: the previous run's rows, and partial rows flushed as it runs.

A rerun with the same options reuses every output that exists and is listed in the previous
``manifest.csv`` (``sources.csv`` per series) or in one of the partial files flushed while the
previous run went on (``.manifest.partial.NNNNN.csv``: each flush writes only the rows since
the last one, as a new small file written atomically).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pipeline.dicom.walk import stat_or_none
from pipeline.io_atomic import atomic_path
from workflows.convert.tasks import MANIFEST_COLUMNS, SOURCE_COLUMNS, ConvertOptions
from workflows.convert.written import outside

log = logging.getLogger("radpipe")

PARTIAL = ".manifest.partial"  # + ".NNNNN.csv": one small file per flush, never rewritten
PARTIAL_SOURCES = ".sources.partial"
SOURCES = "sources.csv"
#: The stat facts of every source file when converted (:mod:`workflows.convert.changes`).
STAT = ".source-stat.csv"
PARTIAL_STAT = ".source-stat.partial"  # + ".NNNNN.csv", as the partial manifests
STAT_COLUMNS = ["source", "size", "mtime_ns", "ctime_ns", "ino"]


def iter_csv(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a CSV file, read as they are needed (none if it does not exist)."""
    if not path.exists():
        return
    with path.open(newline="") as fh:
        yield from csv.DictReader(fh)


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, str]]) -> None:
    # Names are escaped already (escape_name); backslashreplace guards anything else.
    with atomic_path(path) as tmp, tmp.open("w", newline="", errors="backslashreplace") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def source_key(root: Path) -> str:
    """The hashed identity of a source folder (its resolved path), kept in ``convert.json``:
    a rerun resumes only from a conversion of the same folder."""
    from pipeline.keys import hash_key

    return hash_key(str(root.resolve()))


def same_source(out: Path, root: Path) -> bool:
    """Whether the conversion recorded in ``out`` (if any) was made from ``root``."""
    settings = out / "convert.json"
    if not settings.exists():
        return True
    return bool(json.loads(settings.read_text()).get("source_key") == source_key(root))


#: What a per-series conversion writes beside its volumes, recorded in ``convert.json``
#: (``"sidecars"``): 1 = a DWI's ``.bval`` / ``.bvec`` (NIfTI and NPY) and an NPY's ``.json``
#: of time points (2026-12-01); 2 = a NIfTI's BIDS-style ``.json`` (2026-12-03); 3 = that
#: ``.json``'s RepetitionTime the 4-D NIfTI's time step (2026-12-04: it was the header's, 4.2
#: ms beside a 10 s ``pixdim[4]``); 4 = that ``.json``'s RepetitionTime written without a
#: header TR too (a cine's FrameTime), MagneticFieldStrength in tesla (15000 G was 15000 T)
#: and a GE fMRI's SliceTiming from its TriggerTimes (2026-12-04). A conversion recorded with
#: less (an earlier radpipe)
#: wrote none of these, or wrong: resumed, its volumes would stay so, unsaid. An NPY
#: conversion needs only 1.
SIDECARS = 4


def resumable(out: Path, options: ConvertOptions, root: Path) -> bool:
    """Whether the last run into ``out`` can be resumed from: it converted the same folder with
    the same format, window and layout (a file of another folder may share a name: never
    reuse its rows), and (per series) wrote the sidecars this version writes."""
    return _same_run(out, options, root) and not lacks_sidecars(out, options, root)


def lacks_sidecars(out: Path, options: ConvertOptions, root: Path) -> bool:
    """Whether the last run into ``out`` would be resumed but for its volumes' sidecars: a
    per-series conversion by an earlier radpipe (no ``"sidecars"`` in ``convert.json``)."""
    if options.per != "series" or not _same_run(out, options, root):
        return False
    saved = json.loads((out / "convert.json").read_text())
    return int(saved.get("sidecars") or 0) < (SIDECARS if options.format == "nifti" else 1)


def _same_run(out: Path, options: ConvertOptions, root: Path) -> bool:
    return _same_settings(out, options, root) and not _missing_columns(out)


def _same_settings(out: Path, options: ConvertOptions, root: Path) -> bool:
    settings = out / "convert.json"
    if not options.resume or not settings.exists():
        return False
    saved = json.loads(settings.read_text())
    keys = ("format", "window", "per", "tilt", "uneven", "split_4d", "gzip")
    if any(saved.get(k) != getattr(options, k) for k in keys):
        return False
    if options.format == "nifti" and saved.get("json", True) != options.json:
        return False  # --no-json then not (or the reverse): every sidecar written or removed
    return bool(saved.get("source_key") == source_key(root))


def lacks_columns(out: Path, options: ConvertOptions, root: Path) -> list[str]:
    """The manifest columns this version writes that the last run into ``out`` lacks, when it
    would be resumed but for them (its files are converted again, and said)."""
    return _missing_columns(out) if _same_settings(out, options, root) else []


def _missing_columns(out: Path) -> list[str]:
    """The columns this version writes that the last run's manifest lacks: the rows of an
    earlier radpipe's (no ``units``, ``lossy`` or ``padding``) would be reused with those
    cells empty, as if there were nothing to say."""
    try:
        with (out / "manifest.csv").open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError):
        return []  # no manifest: the partial files hold this version's rows
    return [c for c in MANIFEST_COLUMNS if c not in header]


def previous_rows(out: Path) -> Iterator[tuple[int, Iterator[dict[str, str]]]]:
    """The rows of the last run, file by file with its rank (newer files rank higher): its
    manifest, then every partial file (a row may be in several; call it only when
    :func:`resumable` said so)."""
    for rank, path in enumerate((out / "manifest.csv", *parts(out, PARTIAL))):
        yield rank, iter_csv(path)


def complete(out: Path, rows: list[dict[str, str]] | None) -> bool:
    """Whether there are rows and every output they list is a file in ``out``.

    An output named outside ``out`` (a hand-edited row: ``../keep.npy``, an absolute path)
    is no output of this conversion: its rows are not done (converted again), and said so.
    """
    top = os.fspath(out)  # no Path per file: pathlib interns every name it parses
    for r in rows or []:
        if outside(r["output"]):
            log.warning("the last run's manifest lists the output %r, outside the output "
                        "folder (a hand-edited row?): not taken as done, its source is "
                        "converted again", r["output"])  # fmt: skip
            return False
    found = (stat_or_none(os.path.join(top, r["output"])) for r in rows or [])
    return bool(rows) and all(st is not None and stat.S_ISREG(st.st_mode) for st in found)


def parts(out: Path, stem: str) -> list[Path]:
    return sorted(out.glob(f"{stem}.*.csv"))


def partial_files(out: Path) -> list[Path]:
    """Every partial file a run flushed (manifest rows, sources.csv rows, stat facts)."""
    return [*parts(out, PARTIAL), *parts(out, PARTIAL_SOURCES), *parts(out, PARTIAL_STAT)]


def flush(
    out: Path, rows: list[dict[str, str]], sources: list[dict[str, str]], flushed: list[int],
    stats: list[dict[str, str]] | None = None,
) -> list[int]:  # fmt: skip
    """Write the rows and sources.csv rows collected since the last flush, each batch as a new
    small file (atomic), so that a kill loses little and a flush never rewrites what was
    written before (one rewrite of everything per flush would grow with the square of the
    number of files). The source files' stat facts (``stats``) are written last: never on
    disk before the rows made from the files they vouch for."""
    batches = ((PARTIAL, MANIFEST_COLUMNS, rows, flushed[0]),
               (PARTIAL_SOURCES, SOURCE_COLUMNS, sources, flushed[1]),
               (PARTIAL_STAT, STAT_COLUMNS, stats or [], 0))  # fmt: skip
    for stem, columns, items, start in batches:
        if len(items) > start:
            number = len(parts(out, stem))
            write_csv(out / f"{stem}.{number:05d}.csv", columns, items[start:])
    return [len(rows), len(sources)]


def listed_outputs(out: Path) -> Iterator[str]:
    """Every output an earlier run into ``out`` listed (any options): radpipe's own files (an
    output listed in several files comes once per file)."""
    paths = [
        out / "manifest.csv",
        out / SOURCES,
        *parts(out, PARTIAL),
        *parts(out, PARTIAL_SOURCES),
    ]
    return (r["output"] for path in paths for r in iter_csv(path) if r.get("output"))


class Partial:
    """The rows collected since the last flush, written as a new partial file every
    ``every`` results or ``seconds`` (see :func:`flush`); nothing else is kept.

    ``stats_of(names)``: the ``.source-stat.csv`` rows of the source files named (each once);
    asked at the flush, for each result's names in turn, not once per result: the facts were
    taken before the conversion began and do not change while it runs.
    """

    def __init__(
        self, out: Path, every: int, seconds: float,
        stats_of: Callable[[list[str]], list[dict[str, str]]] | None = None,
    ) -> None:  # fmt: skip
        self.out, self.every, self.seconds, self.stats_of = out, every, seconds, stats_of
        self.rows: list[dict[str, str]] = []
        self.sources: list[dict[str, str]] = []
        self.names: list[list[str]] = []  # each result's source files, for stats_of
        self.count = 0
        self.last = time.monotonic()

    def add(
        self, rows: Iterable[dict[str, str]], sources: Iterable[dict[str, str]],
        names: Iterable[str] = (),
    ) -> None:  # fmt: skip
        self.rows += rows
        self.sources += sources
        self.names.append(list(names))
        self.count += 1
        if self.count % self.every == 0 or time.monotonic() - self.last > self.seconds:
            self.flush()

    def flush(self) -> None:
        """Write the rows collected since the last flush (also called on Ctrl-C, so that a
        rerun redoes none of the results collected before it)."""
        stats_of = self.stats_of
        stats = [s for n in self.names for s in stats_of(n)] if stats_of is not None else []
        flush(self.out, self.rows, self.sources, [0, 0], stats)
        self.rows, self.sources, self.names = [], [], []
        self.last = time.monotonic()
