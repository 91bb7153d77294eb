"""Benchmark: ``convert --format npy --window none`` (1 worker) per file, in CPU instructions.

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

    .venv/bin/python benchmarks/convert_instructions.py [--size 64] [--small 100] [--large 400]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.loop_instructions import built_shim, collected

METHODS = ("radpipe", "floor")


def child(which: str, src: str, warm: str, shim: str) -> None:
    """Convert ``warm`` (not counted), then ``src`` inside the instrumented window."""
    import workflows.convert.batch as batch
    from benchmarks.convert_rows import floor_npy, radpipe_convert

    # the partial manifest is flushed every 500 files or 2 s: under valgrind (~50x slower)
    # the clock would flush it every few files, more on a loaded machine (at full speed a
    # run of 400 files takes about half a second): by the count of files only
    batch._FLUSH_SECONDS = float("inf")

    run = (radpipe_convert if which == "radpipe" else floor_npy)(Path(src), **(
        {"format": "npy", "window": "none"} if which == "radpipe" else {}))  # fmt: skip
    warm_up = (radpipe_convert if which == "radpipe" else floor_npy)(Path(warm), **(
        {"format": "npy", "window": "none"} if which == "radpipe" else {}))  # fmt: skip
    cg = ctypes.CDLL(shim)
    with tempfile.TemporaryDirectory() as out:
        os.mkdir(Path(out, "warm"))
        os.mkdir(Path(out, "run"))
        warm_up(Path(out, "warm"))
        cg.cg_start()
        run(Path(out, "run"))
        cg.cg_stop()


def count(which: str, src: Path, warm: Path, shim: Path, work: Path) -> int:
    """Instructions of one instrumented conversion of ``src``."""
    child = [sys.executable, __file__, "--child", which, str(src), str(warm), str(shim)]
    return collected(child, work / f"{which}.{src.name}.out", f"{which} on {src.name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64, help="rows and columns of each slice")
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--large", type=int, default=400)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
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
        jobs = [(w, s) for w in METHODS for s in ("small", "large")]
        with ThreadPoolExecutor(max_workers=2) as pool:
            got = pool.map(lambda j: count(j[0], folders[j[1]], folders["warm"], shim, work), jobs)
            counts = dict(zip(jobs, got))
    files = args.large - args.small
    per = {w: (counts[w, "large"] - counts[w, "small"]) / files for w in METHODS}
    print(f"convert --format npy --window none, 1 worker, {args.size}x{args.size} CT slices; "
          f"callgrind instructions a file ({args.large} less {args.small} files)\n")  # fmt: skip
    print("| work | radpipe | floor | radpipe / floor |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| convert npy {args.size}x{args.size}, instructions a file | "
          f"{per['radpipe'] / 1e6:.3f} M | {per['floor'] / 1e6:.3f} M | "
          f"{per['radpipe'] / per['floor']:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
