"""The sample cache drops entries long unused, never one a process maps.

Every preprocessing key makes an entry of ``OUTPUT/.cache/samples`` (a packed copy of a
dataset); until 2026-12-04 none was ever removed. Now building a new entry removes those no
process has used for 14 days (:mod:`pipeline.data.cache_use`), except an entry another process
maps now (another run's, training): here a second process, as a concurrent run would.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.data.cache import SampleCache
from pipeline.data.cache_use import prune_unused
from pipeline.sample import Sample

ROOT = Path(__file__).resolve().parents[2]
OLD = time.time() - 30 * 86400  # a month ago: past the 14 days

MAP = ("import sys; import numpy as np\n"
       "from pipeline.data.cache import SampleCache; from pipeline.sample import Sample\n"
       "load = lambda i: Sample(image=np.ones((1, 2, 2), np.float32), label=0, meta={'id': 'a'})\n"
       "packed = SampleCache(sys.argv[1], sys.argv[2]).open_or_build(1, load)\n"
       "print('mapped', flush=True); sys.stdin.read()\n"
       "print(float(packed.images.sum()), flush=True)")  # fmt: skip


def _build(root: Path, name: str) -> None:
    """Entry ``name`` of ``root``, built here and no longer mapped by this process."""
    load = lambda i: Sample(image=np.ones((1, 2, 2), np.float32), label=0, meta={"id": "a"})  # noqa: E731
    packed = SampleCache(root, name).open_or_build(1, load)
    assert float(packed.images.sum()) == 4.0
    del packed
    gc.collect()


def _age(root: Path, name: str) -> None:
    os.utime(root / name / "index.json", (OLD, OLD))


def test_entries_long_unused_go_and_one_mapped_now_stays(tmp_path: Path) -> None:
    root = tmp_path / "samples"
    for name in ("aa", "bb", "cc"):
        _build(root, name)
    other = subprocess.Popen([sys.executable, "-c", MAP, str(root), "bb"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert other.stdout is not None and other.stdout.readline() == "mapped\n"
    _age(root, "aa")
    _age(root, "bb")  # unused for a month as far as its time says; but mapped now
    removed, size = prune_unused(root)
    out, _ = other.communicate("", timeout=60)
    assert out == "4.0\n"  # the other process read its entry to the end
    same = sum(f.stat().st_size for f in (root / "bb").iterdir())  # aa held the same
    assert (removed, size) == (1, same)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["bb", "cc"]


def test_building_an_entry_removes_those_long_unused(tmp_path: Path) -> None:
    root = tmp_path / "samples"
    _build(root, "aa")
    _build(root, "bb")
    _age(root, "aa")
    _build(root, "cc")  # a new key: the cache grows, and is pruned
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["bb", "cc"]
    _age(root, "bb")  # (until 2026-12-04 bb was fresh here: a reuse not renewing passed)
    _build(root, "bb")  # an existing entry is reused (its time renewed), not rebuilt
    assert (root / "bb" / "index.json").stat().st_mtime > OLD + 86400
