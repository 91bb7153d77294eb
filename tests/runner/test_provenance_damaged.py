"""A run whose ``provenance.json`` is cut short or damaged: one line naming it, every command.

``provenance.json`` is written atomically, so radpipe never leaves it cut short; a copy of the
run made while a disk filled, a sync tool or an editor can. Until 2026-12-03 six places read it
by hand: ``radpipe run --resume``, ``predict`` and ``evaluate`` of such a run ended in a
``JSONDecodeError`` traceback, and the check of the project secret passed it over unsaid. One
reader (:mod:`workflows.run.provenance`) now refuses it, naming the file and why, exit 1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.runner.conftest import radpipe_in
from workflows.run.provenance import read_provenance


@pytest.fixture
def damaged(cr_run: Path) -> Path:
    """A copy of ``cr_run`` beside it (its conversion path is relative), provenance.json cut
    after 40 bytes, as a copy interrupted mid-file leaves it."""
    copy = cr_run.with_name(cr_run.name + "-cut")
    shutil.copytree(cr_run, copy)
    text = (copy / "provenance.json").read_text()
    (copy / "provenance.json").write_text(text[:40])
    yield copy
    shutil.rmtree(copy)


@pytest.mark.parametrize("command", ["run --resume RUN", "predict RUN SRC", "evaluate RUN SRC"])
def test_each_command_names_the_damaged_provenance(
    damaged: Path, cr16: Path, tmp_path: Path, command: str
) -> None:
    args = command.replace("RUN", str(damaged)).replace("SRC", str(cr16 / "dicom")).split()
    if command.startswith("evaluate"):
        args += ["--labels", str(cr16 / "labels.csv")]
    args += ["--out", str(tmp_path / "out")] if not command.startswith("run") else ["--quiet"]
    done = radpipe_in(tmp_path, *args)
    name = command.split()[0]
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    (line,) = [x for x in done.stderr.splitlines() if "provenance.json" in x]
    assert line.startswith(f"radpipe {name}: error: {damaged.name}/provenance.json is not usable "
                           "(cut short or damaged: ")  # fmt: skip
    assert line.endswith("restore it from a copy of the run directory, or start a new run")


CUT = "Unterminated string starting at: line 1 column 21 (char 20)"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"seed": 1, "keys": "ab', f"cut short or damaged: {CUT}"),
        ("[1, 2]", "it holds a JSON list, not an object"),
        ("", "cut short or damaged: Expecting value: line 1 column 1 (char 0)"),
    ],
    ids=["cut", "list", "empty"],
)
def test_the_reader_says_why(tmp_path: Path, text: str, why: str) -> None:
    from pipeline.errors import RadpipeError

    run = tmp_path / "run-1"
    run.mkdir()
    (run / "provenance.json").write_text(text)
    with pytest.raises(RadpipeError) as caught:
        read_provenance(run)
    assert str(caught.value).startswith(f"run-1/provenance.json is not usable ({why})")


def test_a_run_without_provenance_reads_none_and_typed_entries(tmp_path: Path) -> None:
    assert read_provenance(tmp_path) is None  # stopped before its data were prepared
    (tmp_path / "provenance.json").write_text(
        '{"keys": "k1", "conversion": "", "unwindowed_images": 3, "windowed_images": true}'
    )
    got = read_provenance(tmp_path)
    assert got is not None
    assert (got.keys, got.conversion, got.unwindowed_images, got.windowed_images) == (
        "k1", None, 3, None)  # fmt: skip
