"""The folder walk without a ``Path`` per file, and its compact table of files found.

pathlib interns every name it parses in a table that never shrinks, and a ``set`` of
``(device, inode)`` tuples takes about 160 bytes a file: both made the memory of
``convert`` grow with the number of files (issue 15's memory row).
"""

from __future__ import annotations

import os
import random
from pathlib import Path, PurePosixPath

import pytest

from pipeline.dicom.header import relative_name
from pipeline.dicom.walk import FileKeys, find_files
from pipeline.io_atomic import _stem_suffixes, atomic_open


def test_walk_yields_str_paths_the_root_joined_with_rel(tmp_path: Path) -> None:
    (tmp_path / "p" / "s").mkdir(parents=True)
    for rel in ("top.dcm", "p/s/a.dcm", "p/s/b", "p/x.dcm"):
        (tmp_path / rel).write_bytes(b"x")
    found = list(find_files(tmp_path))
    assert [f.rel for f in found] == ["top.dcm", "p/x.dcm", "p/s/a.dcm", "p/s/b"]
    assert all(type(f.path) is str for f in found)
    assert [f.path for f in found] == [str(tmp_path / f.rel) for f in found]
    assert [relative_name(f.path, tmp_path) for f in found] == [f.rel for f in found]
    assert relative_name(tmp_path / "p" / "x.dcm", tmp_path) == "p/x.dcm"  # a Path too


def test_walk_from_a_relative_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.dcm").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    for root in (Path("."), Path("d"), "d/"):
        found = [f for f in find_files(root) if f.problem is None]
        assert [relative_name(f.path, root) for f in found] == [f.rel for f in found]
        assert all(os.path.samefile(f.path, tmp_path / "d" / "a.dcm") for f in found)


def test_file_keys_answer_as_a_set_through_growth() -> None:
    """Against a ``set`` of tuples: devices, inodes 0 and 2**64 - 1, repeats, resizing."""
    keys, reference = FileKeys(), set()
    draw = random.Random(15)
    for _ in range(20_000):
        device = draw.choice([1, 2, 2**40])
        inode = draw.choice([draw.randrange(3000), draw.randrange(2**64), 0, 2**64 - 1, 2**64])
        assert keys.add(device, inode) is ((device, inode) in reference)
        reference.add((device, inode))


def test_hard_links_found_after_the_table_grew(tmp_path: Path) -> None:
    """A second path to a file is skipped also past the first table (1,024 slots)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for k in range(1300):
        (tmp_path / "a" / f"{k:04d}.dcm").write_bytes(b"")
    for k in (0, 767, 768, 1299):
        os.link(tmp_path / "a" / f"{k:04d}.dcm", tmp_path / "b" / f"{k:04d}.dcm")
    skipped = [f.rel for f in find_files(tmp_path) if f.skipped]
    assert skipped == ["b/0000.dcm", "b/0767.dcm", "b/0768.dcm", "b/1299.dcm"]


@pytest.mark.parametrize(
    "name", ["a.nii.gz", ".a.npy", "a.", "a", "..b", "a..b", "x.tar.gz.", "s.png", "..."]
)
def test_temporary_names_keep_stem_and_suffixes_as_pathlib(name: str) -> None:
    path = PurePosixPath(name)
    assert _stem_suffixes(name) == (path.stem, "".join(path.suffixes))


def test_atomic_open_takes_a_str_in_a_new_folder(tmp_path: Path) -> None:
    target = os.path.join(tmp_path, "new", "x.nii.gz")
    with atomic_open(target) as fh:
        fh.write(b"data")
    assert sorted(os.listdir(tmp_path / "new")) == ["x.nii.gz"]
    assert (tmp_path / "new" / "x.nii.gz").read_bytes() == b"data"
