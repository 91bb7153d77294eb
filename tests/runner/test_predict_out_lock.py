"""``radpipe predict`` (and ``evaluate``) holds its ``--out`` (``OUT/.radpipe-out.lock``) and
clears what a killed one left there.

Until 2026-12-04 a second ``predict`` into the same ``--out`` was refused only by the
conversion's lock, once it got there (an images run, which converts nothing, not at all:
both wrote masks and ``predictions.csv``), and a ``predict`` killed outright (``kill -9``)
left its hidden temporaries in ``OUT`` and ``OUT/masks/`` for good. Now the second is refused
up front, naming the holder, and a rerun removes them. Each command runs as a user runs it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.conftest import radpipe_in

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.Popen[str]:
    """``code`` in another Python process of this worktree, stdin and stdout piped."""
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Another process holding ``tmp_path/out`` as a ``predict`` writing there does."""
    out = tmp_path / "out"
    code = ("import sys; from pathlib import Path; from workflows.run.rundir import hold_output\n"
            f"with hold_output(Path({str(out)!r}), 'predictions.csv'):\n"
            "    print('held', flush=True); sys.stdin.read()")  # fmt: skip
    proc = _python(code)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc, out
    proc.communicate("", timeout=30)


def test_a_second_predict_into_one_out_is_refused_up_front(
    cr_run: Path, cr16: Path, holder: tuple[subprocess.Popen[str], Path]
) -> None:
    proc, out = holder
    done = radpipe_in(out.parent, "predict", str(cr_run), str(cr16 / "dicom"), "--out", "out")
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        "radpipe predict: error: another radpipe predict or evaluate is writing into out (pid "
        f"{proc.pid} on host {socket.gethostname()} since "
    ), line
    assert "holds .radpipe-out.lock" in line
    # refused before converting anything: no conversion lock's refusal, nothing written
    assert not (out / "converted").exists() and not (out / "predictions.csv").exists()


def test_an_evaluate_into_an_out_being_written_is_refused_up_front(
    cr_run: Path, cr16: Path, holder: tuple[subprocess.Popen[str], Path]
) -> None:
    proc, out = holder
    labels = str(cr16 / "labels.csv")
    done = radpipe_in(out.parent, "evaluate", str(cr_run), str(cr16 / "dicom"), "--labels",
                      labels, "--out", "out")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert (f"radpipe evaluate: error: another radpipe predict or evaluate is writing into out "
            f"(pid {proc.pid} on host ") in done.stderr  # fmt: skip
    assert not (out / ".cache").exists() and not (out / "metrics.json").exists()


def _writer(path: Path) -> tuple[subprocess.Popen[str], str]:
    """A process writing ``path`` atomically until stdin closes, and its temporary's name."""
    code = (
        "import sys; from pipeline.io_atomic import atomic_path\n"
        f"with atomic_path({str(path)!r}) as tmp:\n"
        "    tmp.write_bytes(b'half'); print(tmp.name, flush=True); sys.stdin.read()"
    )
    proc = _python(code)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _killed_writer(path: Path) -> str:
    """A process killed (SIGKILL) while it wrote ``path`` atomically: its temporary's name."""
    proc, name = _writer(path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (path.parent / name).is_file()  # left behind, as a killed predict leaves it
    return name


def test_a_rerun_removes_the_temporaries_of_a_killed_predict(
    cr_run: Path, cr16: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = radpipe_in(tmp_path, "predict", str(cr_run), str(cr16 / "dicom"), "--out", "out")
    assert first.returncode == 0, first.stderr
    left = [out / "masks" / "p" / "s" / "i_0.png", out / "predictions.csv"]
    names = [p.parent / _killed_writer(p) for p in left]
    user = out / "masks" / ".notes.tmp.txt"  # hidden, but not radpipe's temporary name
    user.write_text("mine")
    live, name = _writer(out / "masks" / "live.png")  # another process's, writing now
    again = radpipe_in(tmp_path, "predict", str(cr_run), str(cr16 / "dicom"), "--out", "out")
    assert again.returncode == 0, again.stderr
    assert [p for p in names if p.exists()] == []
    assert user.read_text() == "mine"
    assert (out / "masks" / name).is_file()  # kept: its writer goes on
    live.communicate("", timeout=30)
    assert (out / "masks" / "live.png").read_bytes() == b"half"
    assert len((out / "predictions.csv").read_text().splitlines()) == 17  # header + 16 images
