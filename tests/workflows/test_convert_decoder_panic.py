"""A decoder plugin's panic, as a user of ``radpipe convert`` sees it on the terminal.

pylibjpeg-rle panics (Rust) on ``tests/data/fuzz/rle_panic.dcm``: the Rust runtime printed
``thread '<unnamed>' panicked at src/lib.rs:...`` (with ``RUST_BACKTRACE=1`` a whole stack
backtrace) to the worker's standard error, in the middle of the terminal, naming no file;
``errors.csv`` said "pixel data could not be decoded: PanicException: ...". Now the terminal
shows only radpipe's summary, which names the file and what the plugin said.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PANIC = ROOT / "tests" / "data" / "fuzz" / "rle_panic.dcm"
REASON = (
    "RLE Lossless pixel data could not be decoded: the decoder plugin crashed on malformed "
    "data (index out of bounds: the len is 512 but the index is 512)"
)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_decoder_panic_stays_off_the_terminal_and_is_named_in_the_summary(
    tmp_path: Path, workers: str
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    shutil.copy(PANIC, src / "rle_panic.dcm")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUST_BACKTRACE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet",
           "--workers", workers]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 1
    terminal = done.stdout + done.stderr
    assert "panicked" not in terminal and "backtrace" not in terminal
    assert "PanicException" not in terminal and "Traceback" not in terminal
    assert f"  rle_panic.dcm: {REASON}" in terminal.splitlines()
    with (out / "errors.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{"source": "rle_panic.dcm", "reason": REASON, "kind": "error"}]
