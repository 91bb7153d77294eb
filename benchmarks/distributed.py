"""Benchmark: conversion on Dask distributed (1 and 2 workers) against the local pool.

Converts one synthetic CT folder (``radpipe synth``) to PNG with each engine and reports
files/s and the engine's overhead per file, i.e. the wall time per file above the in-process
loop (``workers=1``, no executor at all) times the worker count. Cluster start-up is timed
separately (a long-lived cluster pays it once).

    .venv/bin/python benchmarks/distributed.py --patients 8 --slices 40 --size 256

Absolute speed drifts between processes on small VMs; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

# This file's name would shadow the ``distributed`` package when run as a script.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))


def _convert(src: Path, out: Path, workers: int, scheduler: str | None) -> tuple[float, int]:
    from workflows.convert.batch import ConvertOptions, convert_folder

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    result = convert_folder(src, out, ConvertOptions(format="png", workers=workers),
                            progress=False, scheduler=scheduler)  # fmt: skip
    assert not result.failures, result.failures[:3]
    return time.perf_counter() - start, result.converted


def main() -> None:
    from distributed import LocalCluster

    from pipeline.synth import StudySpec, write_study

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=8)
    ap.add_argument("--slices", type=int, default=40)
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="radpipe-bench-dist-"))
    try:
        write_study(tmp / "study", StudySpec(patients=args.patients, modality="CT",
                                             size=args.size, slices=args.slices))  # fmt: skip
        src = tmp / "study" / "dicom"
        rows: list[tuple[str, int, float, float]] = []
        base, files = _convert(src, tmp / "loop", 1, None)
        rows.append(("in-process loop", 1, base, 0.0))
        t, _ = _convert(src, tmp / "pool", 2, None)
        rows.append(("process pool", 2, t, 0.0))
        for n in (1, 2):
            t0 = time.perf_counter()
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                              dashboard_address=None, host="127.0.0.1") as cluster:  # fmt: skip
                startup = time.perf_counter() - t0
                _convert(src, tmp / "warm", n, cluster.scheduler_address)  # warm-up imports
                t, _ = _convert(src, tmp / f"dask{n}", n, cluster.scheduler_address)
            rows.append((f"Dask LocalCluster (start {startup:.1f} s)", n, t, 0.0))
        print(f"{files} files of {args.size}x{args.size} CT -> PNG\n")
        print("| engine | workers | seconds | files/s | overhead per file |")
        print("| --- | --- | --- | --- | --- |")
        for name, workers, seconds, _ in rows:
            ideal = base / min(workers, 2)
            overhead_ms = (seconds - ideal) / files * 1000 * workers
            print(f"| {name} | {workers} | {seconds:.2f} | {files / seconds:.0f} | "
                  f"{overhead_ms:+.2f} ms |")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
