"""``--per series`` and files that share a SOPInstanceUID.

``sources.csv`` gave both files the one ``instance_key`` ``hash_key(uid)``, with no note in
the manifest (``--per instance`` and ``inspect`` noted them), so a slice label joined by the
UID went to both slices. Now each such file's ``sources.csv`` key is made from UID and file
(the per-instance formula), its volume's manifest row says so and names the files, the
volumes keep every file's own pixels, ``--strict`` refuses the series, and a rerun follows
whether the UID is still shared.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

from pipeline.keys import hash_key
from tests.workflows.test_shared_sop_across_series import _slice
from workflows.cli import main
from workflows.convert import ConvertOptions, convert_folder

NOTE = "SOPInstanceUID shared with another file: instance_key in sources.csv made from UID and file"


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _folder(src: Path) -> tuple[str, str]:
    """Series ``a0`` and ``a1`` share one UID (other pixels); in series ``b`` two slices at
    other positions share another. Returns the two shared UIDs."""
    across, within = generate_uid(), generate_uid()
    for s, series in enumerate((generate_uid(), generate_uid())):
        _slice(src / f"a{s}" / "0.dcm", series, across, 0.0, 10 + s)
        _slice(src / f"a{s}" / "1.dcm", series, generate_uid(), 1.0, 20 + s)
    series = generate_uid()
    _slice(src / "b" / "0.dcm", series, within, 0.0, 30)
    _slice(src / "b" / "1.dcm", series, within, 1.0, 31)
    _slice(src / "b" / "2.dcm", series, generate_uid(), 2.0, 32)
    return across, within


def _args(src: Path, out: Path, *more: str) -> list[str]:
    return ["convert", str(src), str(out), "--format", "npy", "--per", "series", "--quiet", *more]


def test_each_shared_file_gets_its_own_key_and_note(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    across, within = _folder(src)
    assert main(_args(src, out)) == 0
    keys = {r["source"]: r for r in _csv(out / "sources.csv")}
    assert len(keys) == 7
    for source, uid in (("a0/0.dcm", across), ("a1/0.dcm", across), ("b/0.dcm", within),
                        ("b/1.dcm", within)):  # fmt: skip
        assert keys[source]["instance_key"] == hash_key(f"{hash_key(uid)}\0{source}")
    assert len({r["instance_key"] for r in keys.values()}) == 7  # was 5: two pairs repeated
    manifest = {r["source"]: r for r in _csv(out / "manifest.csv")}
    assert manifest["a0/0.dcm"]["problems"] == f"{NOTE} for a0/0.dcm"
    assert manifest["a1/0.dcm"]["problems"] == f"{NOTE} for a1/0.dcm"
    assert manifest["b/0.dcm"]["problems"] == f"{NOTE} for b/0.dcm, b/1.dcm"
    # every file's own pixels, in slice order
    for first, values in (("a0/0.dcm", [10, 20]), ("a1/0.dcm", [11, 21]),
                          ("b/0.dcm", [30, 31, 32])):  # fmt: skip
        volume = np.load(out / manifest[first]["output"])
        assert volume[:, 0, 0].tolist() == values
        assert [keys[r]["slice"] for r in keys if r.split("/")[0] == first.split("/")[0]] == [
            str(k) for k in range(len(values))
        ]


def test_strict_refuses_the_series_and_a_rerun_follows_the_folder(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    across, within = _folder(src)
    assert main(_args(src, out, "--strict")) == 1
    errors = {r["source"]: r["reason"] for r in _csv(out / "errors.csv")}
    assert errors == {
        "a0/0.dcm": f"refused under --strict: {NOTE} for a0/0.dcm",
        "a0/1.dcm": "not converted: its series was refused under --strict on a0/0.dcm",
        "a1/0.dcm": f"refused under --strict: {NOTE} for a1/0.dcm",
        "a1/1.dcm": "not converted: its series was refused under --strict on a1/0.dcm",
        "b/0.dcm": f"refused under --strict: {NOTE} for b/0.dcm, b/1.dcm",
        "b/1.dcm": "not converted: its series was refused under --strict on b/0.dcm",
        "b/2.dcm": "not converted: its series was refused under --strict on b/0.dcm",
    }
    assert _csv(out / "sources.csv") == []

    assert main(_args(src, out)) == 0
    first = _csv(out / "sources.csv")
    again = convert_folder(src, out, ConvertOptions(format="npy", per="series"), progress=False)
    assert (again.converted, again.skipped) == (0, 3)  # nothing changed: every series kept
    assert _csv(out / "sources.csv") == first
    shutil.rmtree(src / "a1")  # the copy is gone: a0/0.dcm is keyed by its UID alone again
    assert main(_args(src, out)) == 0
    keys = {r["source"]: r["instance_key"] for r in _csv(out / "sources.csv")}
    assert keys["a0/0.dcm"] == hash_key(across)
    assert keys["b/1.dcm"] == hash_key(f"{hash_key(within)}\0b/1.dcm")
    manifest = {r["source"]: r["problems"] for r in _csv(out / "manifest.csv")}
    assert manifest == {"a0/0.dcm": "", "b/0.dcm": f"{NOTE} for b/0.dcm, b/1.dcm"}


def test_a_byte_identical_copy_is_no_shared_uid(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    uid, series = generate_uid(), generate_uid()
    _slice(src / "0.dcm", series, uid, 0.0, 5)
    _slice(src / "1.dcm", series, generate_uid(), 1.0, 6)
    shutil.copy(src / "0.dcm", src / "2.dcm")
    assert main(_args(src, out)) == 0
    keys = {r["source"]: r["instance_key"] for r in _csv(out / "sources.csv")}
    assert keys == {"0.dcm": hash_key(uid), "1.dcm": keys["1.dcm"]}
    (row,) = _csv(out / "manifest.csv")
    assert NOTE not in row["problems"]
