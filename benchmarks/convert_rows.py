"""Issue 15's conversion rows, each method alternating with its peers in one process tree.

Rows (``--rows``, default all):

- ``npy512`` / ``npy64``: ``convert --format npy --window none``, 1 worker, CT slices of 512x512
  and 64x64, against a pydicom loop (dcmread, ``pixel_array``, ``apply_modality_lut``,
  ``np.save``) and the floor (dcmread, ``np.frombuffer``, float32 + intercept, ``np.save``);
  each also as files per CPU-second of the process (steadier on a shared machine).
- ``png``: ``convert --format png --window lung`` with 2 workers against 1 worker, and against
  pydicom + PIL in a ``multiprocessing.Pool(2)`` (the peer).
- ``inspect``: the header index (``radpipe inspect``, 1 process and ``--workers 2``) against a
  pydicom ``stop_before_pixels`` loop; floor: reading the first 4 KiB of each file. On
  ``--inspect-files`` (default 5,000) 512x512 slices written sparse: each header on disk,
  the pixel data a hole of its length (what the three read is the same; 5,000 files take a
  few MB of disk, not 2.6 GB). Two more rows count files per CPU-second (steadier than
  wall-clock rates on a shared machine): of the process for 1 process, and of the process
  and its 2 workers together for ``--workers 2``.
- ``nifti``: ``convert --format nifti --per series --no-gzip`` (1 worker) against ``dcm2niix -z n``
  (the pip package's binary) on the same series; the rate is slices/s.
- ``memory``: peak RSS of ``convert --format npy`` (1 worker, 64x64) in a fresh process for
  N and ``--memory-scale`` x N files (``--memory-files``, default 1,000 and 100x), laid out
  one folder per patient and series; the target is flat within 10 %.

Each timed call writes into a fresh folder, removed after timing; rounds alternate methods
(A, B, C, A, B, C, ...) and the row prints the median rate, the spread (min..max) and the
ratio of medians (``benchmarks/_bench.py``). Compare ratios, not absolute rates.

    .venv/bin/python benchmarks/convert_rows.py --files 400 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._bench import HEADER, machine, row
from benchmarks.convert import PeakSampler, generate, pydicom_loop, pydicom_one

ROOT = Path(__file__).resolve().parents[1]
Method = Callable[[Path], int]  # writes into the given folder, returns units done


def timed(
    methods: dict[str, Method], rounds: int, work: Path, cpu: dict[str, list[float]] | None = None
) -> dict[str, list[float]]:
    """Alternate the methods; each call gets a fresh output folder, removed untimed.

    ``cpu``: filled with each method's units per CPU-second of this process and of the
    process pools' workers it ran (:class:`WorkerCPU`), steadier than wall-clock rates on a
    shared machine.
    """
    rates: dict[str, list[float]] = {name: [] for name in methods}
    for k in range(rounds + 1):  # round 0 warms up (imports, page cache, pool start)
        for name, run in methods.items():
            out = Path(tempfile.mkdtemp(dir=work))
            with WorkerCPU() as workers:
                start, used = time.perf_counter(), time.process_time()
                units = run(out)
                seconds, used = time.perf_counter() - start, time.process_time() - used
            shutil.rmtree(out)
            if k:
                rates[name].append(units / seconds)
                if cpu is not None:
                    cpu.setdefault(name, []).append(units / (used + workers.seconds))
    return rates


class WorkerCPU:
    """The CPU seconds (user + system) of the ``ProcessPoolExecutor`` workers closed inside.

    Read from ``/proc/<pid>/stat`` as each pool shuts down: the workers are forked by the
    fork server, not by this process, so its ``RUSAGE_CHILDREN`` never holds them. Linux
    only (0 elsewhere).
    """

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> WorkerCPU:
        from concurrent.futures import ProcessPoolExecutor

        self._real = real = ProcessPoolExecutor.shutdown
        tick, me = os.sysconf("SC_CLK_TCK"), self

        def shutdown(pool: Any, *args: Any, **kwargs: Any) -> Any:
            for pid in list(getattr(pool, "_processes", None) or {}):
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    me.seconds += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
                except (OSError, IndexError, ValueError):
                    pass
            return real(pool, *args, **kwargs)

        ProcessPoolExecutor.shutdown = shutdown  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from concurrent.futures import ProcessPoolExecutor

        ProcessPoolExecutor.shutdown = self._real  # type: ignore[method-assign]


def radpipe_convert(src: Path, **options: object) -> Method:
    from workflows.convert.batch import ConvertOptions, convert_folder

    def run(out: Path) -> int:
        opts = ConvertOptions(resume=False, **options)  # type: ignore[arg-type]
        result = convert_folder(src, out, opts, progress=False)
        if result.failures:
            raise SystemExit(f"radpipe failed: {result.failures[:2]}")
        return result.tasks if opts.per != "series" else _slices(src)

    return run


def _slices(src: Path) -> int:
    return sum(1 for _ in src.glob("*.dcm"))


def floor_npy(src: Path) -> Method:
    def run(out: Path) -> int:
        import numpy as np
        import pydicom

        n = 0
        for path in sorted(src.glob("*.dcm")):
            ds = pydicom.dcmread(path)
            hu = np.frombuffer(ds.PixelData, "<i2").reshape(ds.Rows, ds.Columns).astype(np.float32)
            hu += np.float32(ds.RescaleIntercept)
            np.save(out / f"{n}.npy", hu)
            n += 1
        return n

    return run


def _png_one(args: tuple[str, str]) -> int:
    pydicom_one(Path(args[0]), Path(args[1]), "png")
    return 1


def pydicom_pil_pool(src: Path, workers: int) -> Method:
    """pydicom + PIL in a persistent ``Pool(workers)``, made on the first call: the fork server
    (one per process) is then started by radpipe's pool as in a real run, with radpipe's
    preloaded modules, and both methods' workers fork from it warm."""
    import multiprocessing

    pools: list[Any] = []

    def run(out: Path) -> int:
        if not pools:
            pools.append(multiprocessing.get_context("forkserver").Pool(workers))
        jobs = [(str(p), str(out / f"{k}.png")) for k, p in enumerate(sorted(src.glob("*.dcm")))]
        return sum(pools[0].map(_png_one, jobs, chunksize=8))

    return run


def index_radpipe(src: Path, workers: int = 1) -> Method:
    from pipeline.dicom.index import index_folder
    from workflows.convert.pool import header_mapper

    return lambda out: index_folder(src, mapper=header_mapper(src, workers)).files_scanned


def index_pydicom(src: Path) -> Method:
    def run(out: Path) -> int:
        import pydicom

        return sum(
            1 for p in sorted(src.rglob("*.dcm")) if pydicom.dcmread(p, stop_before_pixels=True)
        )

    return run


def index_floor(src: Path) -> Method:
    def run(out: Path) -> int:
        n = 0
        for p in sorted(src.rglob("*.dcm")):
            with p.open("rb") as fh:
                n += bool(fh.read(4096))
        return n

    return run


def dcm2niix(src: Path) -> Method:
    binary = shutil.which("dcm2niix") or str(Path(sys.executable).with_name("dcm2niix"))

    def run(out: Path) -> int:
        subprocess.run([binary, "-z", "n", "-b", "n", "-o", str(out), str(src)],
                       check=True, capture_output=True)  # fmt: skip
        return _slices(src)

    return run


def memory_child(src: str) -> None:
    """In a fresh process: convert ``src`` (npy, 1 worker) and print the peak RSS (MB)."""
    sampler = PeakSampler()
    sampler.start()
    with tempfile.TemporaryDirectory(dir=Path(src).parent) as out:
        radpipe_convert(Path(src), format="npy", window="none")(Path(out))
    sampler.running = False
    sampler.join()
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a parent that loaded
    # torch would show up as this process's peak
    status = Path("/proc/self/status").read_text()
    own = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"rss_mb": max(own, sampler.peak)}))


def _peak(src: Path) -> float:
    cmd = [sys.executable, __file__, "--memory-child", str(src)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["rss_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inspect-files", type=int, default=5000)
    parser.add_argument("--memory-files", type=int, default=1000)
    parser.add_argument("--memory-scale", type=int, default=100)
    parser.add_argument("--rows", default="npy512,npy64,png,inspect,nifti,memory")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    rows = args.rows.split(",")
    print(f"{machine()}; {args.files} files per row, {args.rounds} rounds\n")
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="radpipe-convert-rows-") as tmp:
        work = Path(tmp)
        for size in (512, 64):
            if f"npy{size}" not in rows and not (size == 512 and {"png", "nifti"} & set(rows)):
                continue
            src = work / f"ct{size}"
            src.mkdir()
            generate(src, args.files, size)
            if f"npy{size}" in rows:
                used: dict[str, list[float]] = {}
                rates = timed({"radpipe": radpipe_convert(src, format="npy", window="none"),
                               "pydicom": lambda out, s=src: pydicom_loop(s, out, "npy"),
                               "floor": floor_npy(src)}, args.rounds, work, used)  # fmt: skip
                print(row(f"convert npy, window none, 1 worker, {size}x{size} (peer: pydicom "
                          "loop)", rates, "radpipe", "pydicom", "floor",
                          ">= 0.8x floor, >= 1.5x pydicom"), flush=True)  # fmt: skip
                print(row(f"convert npy {size}x{size}: files per CPU-second of the process "
                          "(user + system: creating the files included)", used, "radpipe",
                          "pydicom", "floor", "-"), flush=True)  # fmt: skip
            if size != 512:
                continue
            if "png" in rows:
                rates = timed({"radpipe2": radpipe_convert(src, format="png", window="lung",
                                                           workers=2),
                               "radpipe1": radpipe_convert(src, format="png", window="lung"),
                               "pool2": pydicom_pil_pool(src, 2)}, args.rounds, work)  # fmt: skip
                print(row("convert png, lung window, 2 workers (peer: 1 worker)", rates,
                          "radpipe2", "radpipe1", None, ">= 1.8x"))  # fmt: skip
                print(row("convert png, 2 workers (peer: pydicom + PIL, Pool(2))", rates,
                          "radpipe2", "pool2", None, ">= 1.2x"), flush=True)  # fmt: skip
            if "nifti" in rows:
                rates = timed({"radpipe": radpipe_convert(src, format="nifti", per="series",
                                                          gzip=False),
                               "dcm2niix": dcm2niix(src)}, args.rounds, work)  # fmt: skip
                print(row("convert nifti per series, 1 worker (slices/s; peer: dcm2niix -z n)",
                          rates, "radpipe", "dcm2niix", None, ">= 1.0x"), flush=True)  # fmt: skip
        if "inspect" in rows:
            src = work / "inspect512"
            src.mkdir()
            generate(src, args.inspect_files, 512, sparse=True)
            cpu: dict[str, list[float]] = {}
            rates = timed({"radpipe": index_radpipe(src), "radpipe2": index_radpipe(src, 2),
                           "pydicom": index_pydicom(src), "floor": index_floor(src)},
                          args.rounds, work, cpu)  # fmt: skip
            files = f"{args.inspect_files:,} files"
            for name, what in (("radpipe", "1 process"), ("radpipe2", "--workers 2")):
                print(row(f"inspect, {what}, {files} (header index; peer: a 1-process pydicom "
                          "stop_before_pixels loop)", rates, name, "pydicom", "floor",
                          ">= 2x pydicom"), flush=True)  # fmt: skip
            print(row(f"inspect, 1 process, {files}: files per CPU-second of the process",
                      cpu, "radpipe", "pydicom", "floor", "-"), flush=True)  # fmt: skip
            print(row(f"inspect --workers 2, {files}: files per CPU-second of the process and "
                      "its 2 workers together", cpu, "radpipe2", "pydicom", None, "-"),
                  flush=True)  # fmt: skip
        if "memory" in rows:
            small, large = work / "mem1", work / "memN"
            n, scale = args.memory_files, args.memory_scale
            generate(large, scale * n, 64, nested=True)
            for p in sorted(large.rglob("*.dcm"))[:n]:  # the first patients' folders
                (small / p.parent.relative_to(large)).mkdir(parents=True, exist_ok=True)
                os.link(p, small / p.relative_to(large))
            a, b = _peak(small), _peak(large)
            print(f"\npeak RSS of convert (npy, 1 worker, 64x64): {a:.0f} MB for {n:,} files, "
                  f"{b:.0f} MB for {scale * n:,} files ({b / a:.2f}x; target flat within "
                  "10 %)")  # fmt: skip


if __name__ == "__main__":
    main()
