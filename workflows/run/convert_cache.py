"""The conversion cache of ``radpipe run``: the conversion options of a run, converting into
the cache or reusing it, its ``.complete`` mark, its lock, and whether it can be reused.

Conversion output is cached under ``OUTPUT/.cache/convert-<key>``, where the key hashes the
source folder, a fingerprint of its files (names, sizes, times), the conversion options and
the radpipe version: runs with the same data, options and version reuse it; a change in any
converts afresh. One run at a time converts into a cache folder (a ``filelock`` beside it;
others wait), and a cache is reused only when its ``.complete`` mark, ``manifest.csv``,
``errors.csv`` and output files agree; otherwise the conversion is finished again.

Every such change made a new entry and none was removed until 2026-12-04: now a run holds its
entry in use (``convert-<key>.use``, a shared lock, :mod:`pipeline.data.cache_use`) while its
study lives, renews the time of its ``.complete`` mark on reuse, and a run that converts a new
entry removes the entries unused for 14 days that no process holds and none converts into.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline.data.cache_use import mark_used, say_pruned, use_entry
from pipeline.dicom.walk import source_files
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from pipeline.keys import hash_key, key_fingerprint
from pipeline.version import radpipe_version  # part of the conversion cache key
from workflows.run.config import RunConfig
from workflows.run.paths import shown
from workflows.run.rundir import fingerprint_files
from workflows.run.study_data import Study

__all__ = [
    "DONE",
    "cache_problem",
    "convert_cached",
    "locked",
    "radpipe_version",
    "read_csv_file",
    "run_convert_options",
]

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


def run_convert_options(config: RunConfig) -> Any:
    """The :class:`~workflows.convert.tasks.ConvertOptions` of a run (and of ``predict`` with
    its model): per instance, except ``unit: series`` without masks, which converts per series
    into NPY volumes assembled as ``radpipe convert --per series`` does (tilt and uneven
    spacing resampled, so every volume has one true z spacing; time points as separate 3-D
    volumes). Masks are joined per slice, so a run with masks converts per instance."""
    from workflows.convert.tasks import ConvertOptions

    c = config.convert
    series = config.data.unit == "series" and config.data.masks is None
    return ConvertOptions(
        format="npy" if series else c.format,
        window=c.window,
        per="series" if series else "instance",
        workers=c.workers,
        max_pixels=c.max_pixels,
        split_4d=series,
    )


def convert_cached(config: RunConfig, *, progress: bool) -> Study:
    """The run's conversion: its cache entry reused, or converted (then the entries no run has
    used for :data:`~pipeline.data.cache_use.UNUSED_DAYS` days are removed). The returned
    study holds the entry in use (``Study.held``) for as long as it lives."""
    from workflows.convert.batch import convert_folder

    src = config.data.source.resolve()
    fingerprint = fingerprint_files(src, source_files(src))  # what a conversion may read
    options = run_convert_options(config)
    settings = {k: v for k, v in asdict(options).items() if k not in ("workers", "resume")}
    key = hash_key(
        json.dumps(
            {
                "src": str(src),
                "fingerprint": fingerprint,
                **settings,
                "radpipe": radpipe_version(),
                "keys": key_fingerprint(),  # the file names hold keys of the project secret
            }
        )
    )
    out = (config.output / ".cache" / f"convert-{key}").resolve()
    study = Study(root=out, kind="dicom", fingerprint=fingerprint, split=[], class_names=[],
                  labels=config.data.labels, masks=config.data.masks)  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    study.held = use_entry(out.parent, out.name)  # before the look: no prune removes it
    with locked(out.with_name(out.name + ".lock")):
        problem = cache_problem(out)
        if problem is None:
            log.info("reusing the cached conversion %s", out.name)
            mark_used(out, DONE)
            study.reused_conversion = True
            study.failures = [
                (r["source"], r["reason"])
                for r in read_csv_file(out / "errors.csv")
                if r.get("kind", "error") == "error"
            ]  # not the skipped non-images
            return study
        if problem != "not converted yet":
            log.warning("the cached conversion %s is not usable (%s); converting", out.name,
                        problem)  # fmt: skip
        (out / DONE).unlink(missing_ok=True)
        result = _run_convert(convert_folder, src, out, options, config, progress)
        study.failures = list(result.failures)
        if result.outputs == 0:
            raise RadpipeError(result.why_nothing(shown(src), shown(out / "errors.csv")))
        mark = {"fingerprint": fingerprint, "outputs": result.outputs,
                "failures": len(result.failures)}  # fmt: skip
        atomic_write_text(out / DONE, json.dumps(mark))
    say_pruned(out.parent, prefix="convert-", stamp=DONE, what="conversion cache")  # it grew
    return study  # its failures are said by the command (`run` at once and at its end)


def _run_convert(
    convert_folder: Any, src: Path, out: Path, options: Any, config: RunConfig, progress: bool
) -> Any:
    scheduler = config.compute.scheduler
    index = out / "index.csv"
    if scheduler:
        return convert_folder(src, out, options, progress=progress, scheduler=scheduler,
                              index_csv=index)  # fmt: skip
    return convert_folder(src, out, options, progress=progress, index_csv=index)
