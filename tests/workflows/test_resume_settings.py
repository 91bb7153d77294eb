"""Whether a conversion can resume from the last one into its folder, from ``convert.json``.

The settings file is written here as a conversion writes it (its options, the source folder's
key and the sidecars version); each case changes one thing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from workflows.convert.resume import (
    SIDECARS,
    complete,
    flush,
    lacks_sidecars,
    parts,
    resumable,
    source_key,
)
from workflows.convert.tasks import ConvertOptions


def _settings(out: Path, options: ConvertOptions, root: Path, **extra: object) -> None:
    out.mkdir(parents=True, exist_ok=True)
    saved = {**asdict(options), "source_key": source_key(root), "sidecars": SIDECARS, **extra}
    (out / "convert.json").write_text(json.dumps(saved))


@pytest.mark.parametrize(
    "change",
    [{"gzip": False}, {"format": "npy"}, {"split_4d": True}],
    ids=["gzip", "format", "split-4d"],
)
def test_another_option_is_not_resumed(tmp_path: Path, change: dict[str, object]) -> None:
    options = ConvertOptions(format="nifti", per="series")
    _settings(tmp_path / "out", options, tmp_path / "src")
    assert resumable(tmp_path / "out", options, tmp_path / "src")
    assert not resumable(tmp_path / "out", replace(options, **change), tmp_path / "src")


def test_another_source_folder_is_not_resumed(tmp_path: Path) -> None:
    options = ConvertOptions(format="nifti", per="series")
    _settings(tmp_path / "out", options, tmp_path / "src")
    assert not resumable(tmp_path / "out", options, tmp_path / "elsewhere")


def test_a_conversion_before_sidecars_lacks_them(tmp_path: Path) -> None:
    options = ConvertOptions(format="nifti", per="series")
    _settings(tmp_path / "out", options, tmp_path / "src", sidecars=0)
    assert lacks_sidecars(tmp_path / "out", options, tmp_path / "src")
    _settings(tmp_path / "out", options, tmp_path / "src")
    assert not lacks_sidecars(tmp_path / "out", options, tmp_path / "src")


def test_no_rows_are_not_a_complete_conversion(tmp_path: Path) -> None:
    assert not complete(tmp_path, [])
    (tmp_path / "a.png").write_bytes(b"")
    assert complete(tmp_path, [{"output": "a.png"}])


def test_each_flush_writes_a_new_file_of_the_new_rows(tmp_path: Path) -> None:
    rows = [{"source": "a.dcm", "output": "a.png"}]
    done = flush(tmp_path, rows, [], [0, 0])
    rows.append({"source": "b.dcm", "output": "b.png"})
    assert flush(tmp_path, rows, [], done) == [2, 0]
    files = parts(tmp_path, ".manifest.partial")
    assert [p.name for p in files] == [".manifest.partial.00000.csv", ".manifest.partial.00001.csv"]
    with files[1].open(newline="") as fh:
        assert [r["source"] for r in csv.DictReader(fh)] == ["b.dcm"]


def test_partial_rows_are_flushed_when_the_time_is_up(tmp_path: Path) -> None:
    from workflows.convert.resume import Partial

    partial = Partial(tmp_path, every=1000, seconds=-1.0)  # every add is past its time
    partial.add([{"source": "a.dcm", "output": "a.png"}], [])
    assert len(parts(tmp_path, ".manifest.partial")) == 1 and partial.rows == []


def test_the_stat_facts_of_partial_rows_are_looked_up_at_the_flush(tmp_path: Path) -> None:
    """Each result's files' facts were looked up as it came back (a query a file); now once
    per flush, for each result's names in turn: the same rows, in the same order."""
    from workflows.convert.resume import PARTIAL_STAT, Partial

    asked: list[list[str]] = []

    def stats_of(names: list[str]) -> list[dict[str, str]]:
        asked.append(names)
        return [{"source": n, "size": str(len(n)), "mtime_ns": "1", "ctime_ns": "2", "ino": "3"}
                for n in dict.fromkeys(names)]  # fmt: skip

    partial = Partial(tmp_path, every=3, seconds=1e9, stats_of=stats_of)
    partial.add([{"source": "a.dcm", "output": "a.npy"}], [], ["a.dcm"])
    partial.add([], [], ["b.dcm", "b.dcm"])  # a series' file named twice: once
    assert asked == [] and parts(tmp_path, PARTIAL_STAT) == []
    partial.add([{"source": "c.dcm", "output": "c.npy"}], [], ["c.dcm"])
    assert asked == [["a.dcm"], ["b.dcm", "b.dcm"], ["c.dcm"]]
    (written,) = parts(tmp_path, PARTIAL_STAT)
    with written.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["source", "size", "mtime_ns", "ctime_ns", "ino"],
                    *([n, "5", "1", "2", "3"] for n in ("a.dcm", "b.dcm", "c.dcm"))]  # fmt: skip
    assert partial.names == [] and partial.rows == []
