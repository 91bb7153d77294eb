"""``convert --strict``: no output whose manifest row would have a problem. Problems known
only once the series is assembled (missing slices, a SOPInstanceUID shared by two files)
refuse the files too, with the problems as the reason in errors.csv."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pydicom.data

from tests.workflows.test_convert_header_window import SERIES, _ct
from workflows.cli import main


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _on_disk(out: Path) -> set[str]:
    names = {
        "manifest.csv",
        "errors.csv",
        "convert.json",
        ".radpipe-convert.lock",
        ".source-stat.csv",
    }
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - names


def test_series_and_shared_uid_problems_refuse_their_files(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    for z in (0.0, 1.0, 3.0):  # 1 mm steps, the slice at z = 2 missing
        _ct(src / f"gap{int(z)}.dcm", z)
    other = f"{SERIES}.8"
    _ct(src / "a.dcm", 0.0, SeriesInstanceUID=other, SOPInstanceUID=f"{other}.1")
    b_attrs = {"SeriesInstanceUID": other, "SOPInstanceUID": f"{other}.1", "ImageComments": "b"}
    _ct(src / "b.dcm", 1.0, **b_attrs)  # another file under the same SOPInstanceUID
    _ct(src / "c.dcm", 2.0, SeriesInstanceUID=other, SOPInstanceUID=f"{other}.3")
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    loose = {r["source"]: r["problems"] for r in _rows(out / "manifest.csv")}
    assert all(loose[f"gap{z}.dcm"].startswith("uneven spacing: ") for z in (0, 1, 3))
    assert "SOPInstanceUID shared" in loose["a.dcm"] and loose["c.dcm"] == ""

    strict = tmp_path / "strict"
    assert main(["convert", str(src), str(strict), "--format", "npy", "--strict", "--quiet"]) == 1
    rows = _rows(strict / "manifest.csv")
    assert [r["source"] for r in rows] == ["c.dcm"] and rows[0]["problems"] == ""
    assert _on_disk(strict) == {rows[0]["output"]}
    errors = {r["source"]: r["reason"] for r in _rows(strict / "errors.csv")}
    assert sorted(errors) == ["a.dcm", "b.dcm", "gap0.dcm", "gap1.dcm", "gap3.dcm"]
    for source, reason in errors.items():
        assert reason == f"refused under --strict: {loose.get(source, loose['a.dcm'])}"


def test_strict_on_pydicoms_test_files_writes_no_row_with_a_problem(tmp_path: Path) -> None:
    src = Path(os.path.dirname(pydicom.data.get_testdata_file("CT_small.dcm")))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--strict", "--quiet"]) == 1
    rows, errors = _rows(out / "manifest.csv"), _rows(out / "errors.csv")
    assert rows and all(r["problems"] == "" for r in rows)
    assert _on_disk(out) == {r["output"] for r in rows}
    reasons = [r["reason"] for r in errors if r["kind"] == "error"]
    assert any(r.startswith("refused under --strict: split: ") for r in reasons)
    assert not {r["source"] for r in rows} & {r["source"] for r in errors}  # each file once
