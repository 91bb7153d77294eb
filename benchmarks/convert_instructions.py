"""Benchmark: ``convert --format npy --window none`` and ``inspect`` a file, in CPU instructions.

The NPY rows of ``convert_rows.py`` (target >= 0.8x the floor) move with the machine: on a
shared 2-core VM the floor's own rate swings 2x between runs with the cost of creating a
file. Instructions executed are not moved by neighbours: this script runs radpipe's
``convert_folder`` and the rows' floor (``dcmread``, ``np.frombuffer``, float32 + intercept,
``np.save``: ``convert_rows.floor_npy``) under valgrind's callgrind, counting only inside
the call (the C shim of ``loop_instructions.py``; imports and a warm-up conversion of other
files are not counted; the partial manifest flushed by the count of files, not the clock,
which valgrind slows ~50x), on ``--small`` and ``--large`` generated CT slices (2 series of 100
a patient, as ``convert.py`` writes them); the slope between the two is the cost of a file
(set-up, the manifest and the series placing of a run's end cancel only in part: they grow
with the files too, and are counted).

The ratio is a proxy for the ratio of times: it leaves out the kernel's work (creating,
writing and renaming files: the larger part of the floor's time at 64x64), cache misses
and page faults. Needs ``valgrind`` with its headers (``valgrind/callgrind.h``) and a C
compiler; about 2-4 minutes on 2 cores with the defaults.

``--row inspect`` counts the inspect row the same way: radpipe's header index
(``index_folder``, one process) against the pydicom ``stop_before_pixels`` loop (target >= 2x
that loop), both of ``convert_rows.py``.

    .venv/bin/python benchmarks/convert_instructions.py [--row npy|inspect] [--size 64]
        [--small 100] [--large 400]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.loop_instructions import built_shim, collected

#: The two methods of each row: radpipe and what it is compared with.
ROWS = {"npy": ("radpipe", "floor"), "inspect": ("radpipe", "pydicom")}


def _method(row: str, which: str, src: Path) -> Any:
    from benchmarks import convert_rows as rows

    if row == "inspect":
        return (rows.index_radpipe if which == "radpipe" else rows.index_pydicom)(src)
    if which == "radpipe":
        return rows.radpipe_convert(src, format="npy", window="none")
    return rows.floor_npy(src)


def child(which: str, src: str, warm: str, shim: str, row: str = "npy") -> None:
    """Run ``warm`` (not counted), then ``src`` inside the instrumented window."""
    import workflows.convert.batch as batch

    # the partial manifest is flushed every 500 files or 2 s: under valgrind (~50x slower)
    # the clock would flush it every few files, more on a loaded machine (at full speed a
    # run of 400 files takes about half a second): by the count of files only
    batch._FLUSH_SECONDS = float("inf")

    run, warm_up = _method(row, which, Path(src)), _method(row, which, Path(warm))
    cg = ctypes.CDLL(shim)
    with tempfile.TemporaryDirectory() as out:
        os.mkdir(Path(out, "warm"))
        os.mkdir(Path(out, "run"))
        warm_up(Path(out, "warm"))
        cg.cg_start()
        run(Path(out, "run"))
        cg.cg_stop()


def count(which: str, src: Path, warm: Path, shim: Path, work: Path, row: str) -> int:
    """Instructions of one instrumented run of ``src``."""
    child = [sys.executable, __file__, "--child", which, str(src), str(warm), str(shim), row]
    return collected(child, work / f"{which}.{src.name}.out", f"{which} on {src.name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64, help="rows and columns of each slice")
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--large", type=int, default=400)
    ap.add_argument("--row", choices=sorted(ROWS), default="npy")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child)
    from benchmarks.convert import generate

    with tempfile.TemporaryDirectory() as tmp:
        folders = {name: Path(tmp, name) for name in ("warm", "small", "large")}
        for folder, n in zip(folders.values(), (20, args.small, args.large), strict=True):
            folder.mkdir()
            generate(folder, n, args.size)
        work = Path(tmp)
        if (shim := built_shim(work)) is None:
            return
        methods = ROWS[args.row]
        jobs = [(w, s) for w in methods for s in ("small", "large")]
        with ThreadPoolExecutor(max_workers=2) as pool:
            got = pool.map(
                lambda j: count(j[0], folders[j[1]], folders["warm"], shim, work, args.row), jobs
            )
            counts = dict(zip(jobs, got))
    files = args.large - args.small
    per = {w: (counts[w, "large"] - counts[w, "small"]) / files for w in methods}
    other = methods[1]
    work_name = ("convert --format npy --window none, 1 worker" if args.row == "npy"
                 else "inspect (header index), 1 process")  # fmt: skip
    print(f"{work_name}, {args.size}x{args.size} CT slices; "
          f"callgrind instructions a file ({args.large} less {args.small} files)\n")  # fmt: skip
    print(f"| work | radpipe | {other} | radpipe / {other} | {other} / radpipe |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| {args.row} {args.size}x{args.size}, instructions a file | "
          f"{per['radpipe'] / 1e6:.3f} M | {per[other] / 1e6:.3f} M | "
          f"{per['radpipe'] / per[other]:.3f} | {per[other] / per['radpipe']:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
