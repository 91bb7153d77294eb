"""A process waiting for the sample cache says which process builds it.

Two runs sharing ``OUTPUT/.cache/samples`` with the same data and preprocessing pack one cache
``FINGERPRINT/``; the second waits on ``FINGERPRINT.lock`` while the first packs. Until
2026-12-03 that lock (:mod:`pipeline.data.cache`) recorded no holder and the wait was silent,
however long; now, after a moment of waiting, one line names the builder (pid, host, start
time, from ``FINGERPRINT.holder.json``), and the waiter then maps the cache the builder made.
Each side runs in its own process, with the command line's logging, as two runs would.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.runner.test_cache_lock import started, waiting_on

#: Builds a one-item cache; ``slow`` keeps building (the lock held) until stdin closes.
BUILD = ("import sys; import numpy as np; from workflows.commands.logs import setup_logging\n"
         "from pipeline.data.cache import SampleCache; from pipeline.sample import Sample\n"
         "setup_logging()\n"
         "def load(i):\n"
         "    if sys.argv[2] == 'slow':\n"
         "        print('building', flush=True); sys.stdin.read()\n"
         "    return Sample(image=np.full((1, 2, 2), 7.0, np.float32), label=1, meta={'id': 'a'})\n"
         "packed = SampleCache(sys.argv[1], '0f3a').open_or_build(1, load)\n"
         "print(sys.argv[2], float(packed.images.sum()), flush=True)")  # fmt: skip


def _start(folder: Path, how: str) -> subprocess.Popen[str]:
    return started(BUILD, str(folder), how)


def test_a_process_waiting_for_the_sample_cache_names_the_builder(tmp_path: Path) -> None:
    folder = tmp_path / "samples"
    builder = _start(folder, "slow")
    holder = folder / "0f3a.holder.json"
    said, built, waiter = waiting_on(builder, "building\n", holder, lambda: _start(folder, "fast"))
    assert said.startswith(
        f"radpipe: waiting for another process building the sample cache 0f3a (pid "
        f"{builder.pid} on host {socket.gethostname()} since 20"
    )
    assert said.endswith(" UTC); this one goes on when it is done\n")
    assert built == "slow 28.0\n"  # 4 pixels of 7
    assert waiter == (0, "fast 28.0\n", "")  # the builder's cache
    # records gone (0f3a.use: the entry's in-use lock, pipeline.data.cache_use)
    assert sorted(p.name for p in folder.iterdir()) == ["0f3a", "0f3a.lock", "0f3a.use"]
