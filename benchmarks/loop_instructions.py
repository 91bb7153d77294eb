"""Benchmark: ``train()``'s overhead over a bare PyTorch loop, counted in CPU instructions.

The wall-clock rows of ``loop.py`` need a quiet machine: on a shared 2-core VM the bare loop
alone swings between 8,000 and 14,000 samples/s from one round to the next, wider than the
5 % target. Instructions executed are not moved by neighbours: this script runs the same
two loops as ``loop.py`` (the same MLP, data, batch and optimiser; one torch thread) under
valgrind's callgrind, counting only inside the call (``CALLGRIND_START_INSTRUMENTATION``
through a tiny C shim built with ``cc``; imports and a warm-up epoch are not counted), for
``1`` and ``--epochs`` epochs each:

  epoch loop   instructions per epoch, the slope between the two runs (set-up, the model
               build and the final checkpoint writes cancel out)
  whole call   instructions of the whole ``--epochs`` call

The ratio of instructions is a proxy for the ratio of times: it leaves out cache misses and
memory stalls (the same tensors flow through both loops) and the checkpoint writer thread's
file I/O. Needs ``valgrind`` with its headers (``valgrind/callgrind.h``) and a C compiler;
about 50x slower than a native run (about 10 minutes on 2 cores with the defaults).

    .venv/bin/python benchmarks/loop_instructions.py [--n 4096] [--epochs 3]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SHIM = """#include <valgrind/callgrind.h>
void cg_start(void) {
    CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT;
}
void cg_stop(void) {
    CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION;
}
"""
HEADERS = Path("/usr/include/valgrind/callgrind.h")


def child(which: str, epochs: int, n: int, shim: str) -> None:
    """Run one loop inside the instrumented window (called under valgrind)."""
    import torch

    torch.set_num_threads(1)
    import loop

    cg = ctypes.CDLL(shim)
    gen = torch.Generator().manual_seed(1)
    ds = loop.BatchTensors(torch.randn(n, 1, loop.SIZE, loop.SIZE, generator=gen),
                           torch.randint(0, 2, (n,), generator=gen))  # fmt: skip
    run = loop.framework if which == "radpipe" else loop.bare
    run(ds, 1)  # warm-up: lazy initialisation is not the loop's cost
    cg.cg_start()
    run(ds, epochs)
    cg.cg_stop()


def count(which: str, epochs: int, n: int, shim: Path, work: Path) -> int:
    """Instructions of one instrumented call (``which`` at ``epochs``)."""
    child = [sys.executable, __file__, "--child", which, str(epochs), str(n), str(shim)]
    return collected(child, work / f"{which}.{epochs}.out", f"{which} x{epochs}")


def collected(command: list[str], out: Path, label: str) -> int:
    """Instructions counted inside the instrumented window of ``command`` under callgrind."""
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
           f"--callgrind-out-file={out}", *command]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    found = re.findall(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"callgrind run {label} failed:\n{proc.stderr[-2000:]}")
    return int(found[-1])


def built_shim(work: Path) -> Path | None:
    """The C shim (:data:`SHIM`) built in ``work``; ``None``, said, without valgrind, its
    headers or a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not (shutil.which("valgrind") and cc and HEADERS.is_file()):
        print("skipped: needs valgrind, its headers (valgrind/callgrind.h) and a C compiler")
        return None
    (work / "shim.c").write_text(SHIM)
    shim = work / "libshim.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(shim), str(work / "shim.c")],
                   check=True)  # fmt: skip
    return shim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        which, epochs, n, shim = args.child
        child(which, int(epochs), int(n), shim)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shim = built_shim(work)
        if shim is None:
            return
        jobs = [(w, e) for w in ("radpipe", "bare") for e in (1, args.epochs)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = dict(zip(jobs, pool.map(lambda j: count(*j, args.n, shim, work), jobs)))
    slope = {w: (counts[w, args.epochs] - counts[w, 1]) / max(args.epochs - 1, 1)
             for w in ("radpipe", "bare")}  # fmt: skip
    whole = {w: counts[w, args.epochs] for w in ("radpipe", "bare")}
    print(f"mlp_classifier {loop_size()}, {args.n} samples, batch 32, 1 torch thread; "
          f"callgrind instructions (1 and {args.epochs} epochs)\n")  # fmt: skip
    print("| work | radpipe | bare loop | radpipe / bare loop | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    rows = (("epoch loop (per epoch)", slope, "<= 1.05"),
            (f"whole call ({args.epochs} epochs)", whole, "<= 1.10"))  # fmt: skip
    for label, got, target in rows:
        print(
            f"| train() {label}, instructions | {got['radpipe'] / 1e6:,.1f} M | "
            f"{got['bare'] / 1e6:,.1f} M | {got['radpipe'] / got['bare']:.3f} | {target} |"
        )


def loop_size() -> str:
    import loop

    return f"{loop.SIZE}x{loop.SIZE}"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
