"""What a rerun of ``radpipe convert`` may reuse: only outputs of the same source folder made
with the same output options, and only a file whose every output is still there. Found by
mutating :mod:`workflows.convert.resume` (each test names the mutation it kills)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.workflows.test_convert_changes import NPY, SERIES, _rows, _slice, killed_after_one_task
from tests.workflows.test_convert_robust import _ct
from workflows.convert.batch import ConvertOptions, convert_folder

SERIES_NPY = ConvertOptions(format="npy", per="series")


def _series(src: Path) -> Path:
    """Three evenly spaced slices of one series (values 1, 2, 3)."""
    for z in range(3):
        _slice(src / f"s{z}.dcm", z + 1, z)
    return src


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (NPY, ConvertOptions(format="npy", window="lung")),
        (ConvertOptions(format="nifti", per="series"),
         ConvertOptions(format="nifti", per="series", gzip=False)),
        (SERIES_NPY, ConvertOptions(format="npy", per="series", tilt="keep")),
        (SERIES_NPY, ConvertOptions(format="npy", per="series", uneven="split")),
        (SERIES_NPY, ConvertOptions(format="npy", per="series", split_4d=True)),
    ],
    ids=["window", "gzip", "tilt", "uneven", "split_4d"],
)  # fmt: skip
def test_a_rerun_with_another_output_option_reuses_nothing(
    tmp_path: Path, first: ConvertOptions, second: ConvertOptions
) -> None:
    """Mutation: an option left out of the settings a rerun must match to resume."""
    src, out = _series(tmp_path / "src"), tmp_path / "out"
    assert convert_folder(src, out, first, progress=False).skipped == 0
    again = convert_folder(src, out, second, progress=False)
    assert again.skipped == 0 and again.converted == again.tasks > 0
    same = convert_folder(src, out, second, progress=False)  # and the same options: all reused
    assert same.converted == 0 and same.skipped == same.tasks


def test_a_multi_frame_file_missing_one_output_is_converted_again(tmp_path: Path) -> None:
    """Mutation: a file reused when any (not every) one of its outputs is still there."""
    src, out = tmp_path / "src", tmp_path / "out"
    _ct(src / "m.dcm", 7, frames=3, series=SERIES)
    convert_folder(src, out, NPY, progress=False)
    rows = _rows(out / "manifest.csv")
    assert len(rows) == 3
    (out / rows[1]["output"]).unlink()
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.converted, again.skipped) == (1, 0)
    assert all(float(np.load(out / r["output"])[0, 0]) == 7.0 for r in rows)


def test_another_source_folder_into_the_same_output_reuses_nothing(tmp_path: Path) -> None:
    """Same names and UIDs in another folder, one file with other pixels: nothing is reused
    (the folder's identity differs, and so do every file's stat facts)."""
    first, out = _series(tmp_path / "a"), tmp_path / "out"
    convert_folder(first, out, NPY, progress=False)
    other = tmp_path / "b"
    shutil.copytree(first, other)
    _slice(other / "s0.dcm", 50, 0)  # same name and UIDs, other pixels
    again = convert_folder(other, out, NPY, progress=False)
    assert (again.converted, again.skipped) == (3, 0)
    values = {r["source"]: float(np.load(out / r["output"])[0, 0])
              for r in _rows(out / "manifest.csv")}  # fmt: skip
    assert values == {"s0.dcm": 50.0, "s1.dcm": 2.0, "s2.dcm": 3.0}


def test_rows_flushed_before_a_kill_win_over_the_older_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation: the last complete manifest ranked above the newer partial files. ``a.dcm`` is
    replaced by another instance (new SOPInstanceUID: a new output name) and converted
    before a kill: the rerun lists the new output, not the manifest's old one, and converts
    only ``b.dcm``, replaced too but not reached."""
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 1, 0)
    _slice(src / "b.dcm", 2, 1)
    convert_folder(src, out, NPY, progress=False)
    old = {r["source"]: r["output"] for r in _rows(out / "manifest.csv")}
    _ct(src / "a.dcm", 6, sop=f"{SERIES}.91", series=SERIES, z=0.0)
    _ct(src / "b.dcm", 8, sop=f"{SERIES}.92", series=SERIES, z=1.0)
    assert killed_after_one_task(src, out, monkeypatch) == ["a.dcm", "b.dcm"]
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.converted, again.skipped) == (1, 1)
    rows = {r["source"]: r["output"] for r in _rows(out / "manifest.csv")}
    assert rows["a.dcm"] != old["a.dcm"] and rows["b.dcm"] != old["b.dcm"]
    values = {s: float(np.load(out / o)[0, 0]) for s, o in rows.items()}
    assert values == {"a.dcm": 6.0, "b.dcm": 8.0}


def _drop_columns(manifest: Path, *dropped: str) -> None:
    import csv

    with manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with manifest.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, [c for c in rows[0] if c not in dropped], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def test_a_manifest_without_this_versions_columns_is_not_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An earlier radpipe's manifest (no ``padding`` column): its rows were reused, that
    cell empty as if there were nothing to say; the files are converted again, and said
    (the conversion started over with no word)."""
    import csv

    from workflows.cli import main

    src, out = _series(tmp_path / "src"), tmp_path / "out"
    assert convert_folder(src, out, SERIES_NPY, progress=False).converted == 1
    _drop_columns(out / "manifest.csv", "padding")
    again = convert_folder(src, out, SERIES_NPY, progress=False)
    assert again.skipped == 0 and again.converted == again.tasks == 1
    assert again.columns_redone == ["padding"]
    _drop_columns(out / "manifest.csv", "units", "lossy")
    assert main(["convert", str(src), str(out), "--format", "npy", "--per", "series"]) == 0
    said = "note: OUT's manifest was written by an earlier radpipe, without its units, lossy "
    assert said + "column(s): every file converted again to fill them" in capsys.readouterr().err
    with (out / "manifest.csv").open(newline="") as fh:
        assert "padding" in next(csv.reader(fh))
    same = convert_folder(src, out, SERIES_NPY, progress=False)  # now this version's: reused
    assert same.converted == 0 and same.skipped == same.tasks
