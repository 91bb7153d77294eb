"""The conversion cache of ``radpipe run`` drops entries long unused, never one a run uses.

Every change of source folder, file, conversion option or radpipe version makes a new entry
``OUTPUT/.cache/convert-<key>/`` (a converted copy of the data); until 2026-12-04 none was ever
removed. Now a run that converts a new entry removes those no run has used for 14 days
(:mod:`pipeline.data.cache_use`), except one another run uses now: here a second process
holds its study, as a concurrent run (training on it) would. ``convert.max_pixels`` varies
the key (every image is far below it, so each entry holds the same 16 images).
"""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.test_sample_cache_prune import OLD, ROOT  # a month ago; this checkout
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.study import Study, prepare_study

#: prepare_study as a run does (reusing the entry of max_pixels argv[3]); holds it until stdin
#: closes, then counts the entry's converted images.
HOLD = ("import sys; from pathlib import Path\n"
        "from tests.runner.conftest import base_config\n"
        "from workflows.run.config import validate_config\n"
        "from workflows.run.study import prepare_study\n"
        "raw = base_config(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "raw['convert']['max_pixels'] = int(sys.argv[3])\n"
        "study = prepare_study(validate_config(raw), Path(sys.argv[4]), progress=False)\n"
        "print(study.reused_conversion, flush=True); sys.stdin.read()\n"
        "print(len(list(study.root.rglob('*.npy'))), flush=True)")  # fmt: skip


def _prepare(cr16: Path, out: Path, run: Path, max_pixels: int) -> Study:
    raw = base_config(cr16, out)
    raw["convert"]["max_pixels"] = max_pixels
    run.mkdir(parents=True)
    return prepare_study(validate_config(raw), run, progress=False)


def _converted(cr16: Path, out: Path, run: Path, max_pixels: int) -> str:
    """The entry's name; the study (which holds it in use) let go."""
    study = _prepare(cr16, out, run, max_pixels)
    name = study.root.name
    del study
    gc.collect()
    return name


def _age(entry: Path) -> None:
    os.utime(entry / ".complete", (OLD, OLD))


def test_converting_removes_entries_long_unused_but_not_one_a_run_uses(
    cr16: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    cache = out / ".cache"
    unused = _converted(cr16, out, tmp_path / "r1", 2**28)
    used = _converted(cr16, out, tmp_path / "r2", 2**27)
    assert unused != used and unused.startswith("convert-")
    size = sum(f.stat().st_size for f in (cache / unused).rglob("*") if f.is_file())
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(cr16), str(out), str(2**27),
                              str(tmp_path / "r3")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert other.stdout is not None and other.stdout.readline() == "True\n"  # it reused it
    _age(cache / unused)
    _age(cache / used)  # unused for a month as far as its time says; but in use now
    os.utime(cache / used / "manifest.csv", (OLD, OLD))  # (only .complete's time counts)
    (cache / "samples").mkdir()  # the sample cache's folder: not an entry of this one
    os.utime(cache / "samples", (OLD, OLD))
    with caplog.at_level(logging.INFO, logger="radpipe"):
        new = _converted(cr16, out, tmp_path / "r4", 2**26)  # a new entry: the cache grew
    got, _ = other.communicate("", timeout=60)
    assert got == "16\n"  # the other run read its entry to the end
    entries = sorted(p.name for p in cache.iterdir() if p.is_dir())
    assert entries == sorted([used, new, "samples"])
    said = [r.getMessage() for r in caplog.records if "conversion cache:" in r.getMessage()]
    assert said == [
        f"conversion cache: removed 1 entry no run had used for 14 days ({size / 1e6:.1f} MB)"
    ]


def test_reusing_an_entry_renews_its_time_and_a_removed_one_converts_again(
    cr16: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cache = out / ".cache"
    kept = _converted(cr16, out, tmp_path / "r1", 2**28)
    gone = _converted(cr16, out, tmp_path / "r2", 2**27)
    _age(cache / kept)
    _age(cache / gone)
    again = _prepare(cr16, out, tmp_path / "r3", 2**28)  # reused: its time renewed
    assert again.reused_conversion and (cache / kept / ".complete").stat().st_mtime > OLD + 86400
    del again
    gc.collect()
    _converted(cr16, out, tmp_path / "r4", 2**26)
    assert not (cache / gone).exists() and (cache / kept / ".complete").is_file()
    back = _prepare(cr16, out, tmp_path / "r5", 2**27)  # its run again: converted afresh
    assert not back.reused_conversion and back.root.name == gone
    assert len(list(back.root.rglob("*.npy"))) == 16
