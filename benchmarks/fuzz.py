"""Fuzz benchmark: 10,000+ mutated DICOM files through ``inspect`` and ``convert``.

Usage: ``python benchmarks/fuzz.py [--files 10000] [--batch 500] [--workers 2] [--seed 1000]``

Mutants come from :mod:`pipeline.synth.mutants` (seeds in every layout the project decodes,
byte- and element-level mutations). Each batch of ``--batch`` files is indexed (header only,
as ``radpipe inspect``) and converted to PNG (as ``radpipe convert --workers N``); the script
prints batches aborted (an exception out of either), files unaccounted (found but in neither
``manifest.csv`` nor ``errors.csv``, or in both), peak RSS of this process and of the worker
processes, and the slowest file. Targets (issue 12): 0 aborted, 0 unaccounted, peak RSS
under 1 GB, no file over 10 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["RUST_BACKTRACE"] = "0"  # decoder panics are expected here; no backtraces

from pipeline.dicom.files import escape_name, find_files
from pipeline.dicom.index import index_folder
from pipeline.synth.mutants import write_mutants
from workflows.convert.batch import ConvertOptions, convert_folder


class _PeakRss:
    """Highest VmHWM (peak resident set) of this process and every descendant, sampled.

    Pool workers are children of the forkserver, not of this process, so
    ``RUSAGE_CHILDREN`` does not see them; /proc does.
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    parents[int(entry.name)] = int(fields[1])
                except (OSError, IndexError, ValueError):
                    continue
        me = os.getpid()
        for pid in parents:
            p, hops = pid, 0
            while p not in (me, 0, 1) and hops < 20:
                p, hops = parents.get(p, 0), hops + 1
            if p == me:
                self.peak_kb = max(self.peak_kb, _hwm_kb(pid))


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _accounting(src: Path, out: Path) -> int:
    """Files found but listed in neither or both of manifest.csv (sources.csv per series) and
    errors.csv."""
    listing = out / "sources.csv"  # per series: every file of every volume
    if not listing.exists():
        listing = out / "manifest.csv"
    with listing.open(newline="") as fh:
        listed = {r["source"] for r in csv.DictReader(fh)}
    with (out / "errors.csv").open(newline="") as fh:
        errors = [r["source"] for r in csv.DictReader(fh)]
    found = {escape_name(f.rel) for f in find_files(src)}
    both = listed & set(errors)
    return len(found - listed - set(errors)) + len(both) + len(errors) - len(set(errors))


def run(files: int, batch: int, workers: int, work: Path, seed: int = 1000) -> dict[str, object]:
    aborted = unaccounted = total = converted = failed = series_failed = series_unaccounted = 0
    slowest = (0.0, "")
    start = time.perf_counter()
    sampler = _PeakRss().__enter__()
    for k in range((files + batch - 1) // batch):
        src, out = work / f"b{k:03d}" / "in", work / f"b{k:03d}" / "out"
        write_mutants(src, min(batch, files - k * batch), seed=seed + k)
        try:
            index = index_folder(src)
            assert index.files_scanned == sum(len(s.instances) for s in index.series) + len(
                index.problems
            )
            result = convert_folder(src, out, ConvertOptions(format="png", workers=workers),
                                    progress=False)  # fmt: skip
            series = convert_folder(src, out.with_name("series"), ConvertOptions(
                format="npy", per="series", workers=workers), progress=False)  # fmt: skip
        except BaseException:
            aborted += 1
            traceback.print_exc()
            continue
        total += result.tasks
        converted += result.converted
        failed += result.failed
        unaccounted += _accounting(src, out) + _accounting(src, out.with_name("series"))
        series_unaccounted += _accounting(src, out.with_name("series"))
        series_failed += series.failed
        if result.slowest > slowest:
            slowest = (result.slowest[0], f"b{k:03d}/{result.slowest[1]}")
        shutil.rmtree(work / f"b{k:03d}")
        print(f"batch {k}: {result.tasks} files, {result.converted} converted, "
              f"{result.failed} failed, {len(result.not_images)} skipped", flush=True)  # fmt: skip
    sampler.__exit__()
    return {
        "files": total,
        "converted": converted,
        "failed": failed,
        "batches_aborted": aborted,
        "files_unaccounted": unaccounted,
        "files_unaccounted_per_series": series_unaccounted,
        "failed_per_series": series_failed,
        "peak_rss_mb_main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mb_any_process": round(
            max(sampler.peak_kb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1
        ),
        "slowest_file_s": round(slowest[0], 3),
        "slowest_file": slowest[1],
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1000, help="batch k uses seed + k")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="radpipe-fuzz-") as tmp:
        figures = run(args.files, args.batch, args.workers, Path(tmp), args.seed)
    for key, value in figures.items():
        print(f"{key}: {value}")
    ok = figures["batches_aborted"] == 0 and figures["files_unaccounted"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
