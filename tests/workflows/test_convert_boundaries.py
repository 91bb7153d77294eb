"""Counts and outputs of ``radpipe convert`` at the edges of its orchestration, found by
mutating :mod:`workflows.convert` (batch, collect, resume, series_plan): a rerun whose kept
files are then refused or converted again, each count worked out by hand from the files."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from pipeline.errors import ConfigError
from tests.workflows.test_convert_changes import SERIES, _rows, _slice
from tests.workflows.test_convert_robust import _ct
from tests.workflows.test_shared_sop_across_series import _slice as _signed_slice
from workflows.cli import main
from workflows.convert.batch import ConvertOptions, convert_folder

NPY = ConvertOptions(format="npy")
STRICT = ConvertOptions(format="npy", strict=True)


def _gap_series(src: Path) -> Path:
    """Three slices at z = 0, 1, 3 mm (a slice missing at 2): a series with a problem."""
    for z in (0, 1, 3):
        _slice(src / f"g{z}.dcm", 5, z)
    return src


def test_a_strict_rerun_takes_refused_kept_files_from_already_done(tmp_path: Path) -> None:
    """A rerun with --strict keeps the files of the last run, then refuses those whose series
    has a problem: they were counted as already done, not converted, and the summary said
    "-3 converted, 4 already done" (collect.refuse_problem_rows took them from converted)."""
    src, out = _gap_series(tmp_path / "src"), tmp_path / "out"
    _slice(src / "ok.dcm", 5, 0, series=f"{SERIES}.9")  # a series of its own, no problem
    first = convert_folder(src, out, NPY, progress=False)
    assert (first.tasks, first.converted, first.skipped, first.failed) == (4, 4, 0, 0)
    again = convert_folder(src, out, STRICT, progress=False)
    # ok.dcm kept; the three files of the series with a gap refused, none converted
    assert (again.tasks, again.converted, again.skipped, again.failed) == (4, 0, 1, 3)
    assert sorted(name for name, _ in again.failures) == ["g0.dcm", "g1.dcm", "g3.dcm"]
    assert [r["source"] for r in _rows(out / "manifest.csv")] == ["ok.dcm"]
    assert again.outputs == 1


def test_a_kept_file_whose_uid_a_new_file_shares_is_counted_converted(tmp_path: Path) -> None:
    """A new file sharing a kept file's SOPInstanceUID, with other pixels: both are converted
    (again) under names made from the UID and the file. The kept one was counted already
    done and converted, the summary said 1 converted, 1 already done."""
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 5, 0)
    convert_folder(src, out, NPY, progress=False)
    _slice(src / "z.dcm", 9, 0)  # the same SOPInstanceUID, other pixels
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.tasks, again.converted, again.skipped, again.failed) == (2, 2, 0, 0)
    rows = _rows(out / "manifest.csv")
    assert sorted(r["source"] for r in rows) == ["a.dcm", "z.dcm"]
    assert len({r["output"] for r in rows}) == again.outputs == 2


def test_a_kept_file_found_a_copy_of_a_new_one_is_skipped_not_done(tmp_path: Path) -> None:
    """A byte-identical copy that sorts before the kept file: the copy is converted, the kept
    file listed as its duplicate (skipped). The summary said 0 converted, 1 already done."""
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 5, 0)
    convert_folder(src, out, NPY, progress=False)
    shutil.copy(src / "a.dcm", src / "0.dcm")
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.tasks, again.converted, again.skipped, again.failed) == (2, 1, 0, 0)
    assert [name for name, _ in again.not_images] == ["a.dcm"]
    assert [r["source"] for r in _rows(out / "manifest.csv")] == ["0.dcm"]


def test_a_strict_rerun_per_series_refuses_a_kept_series_with_a_problem(tmp_path: Path) -> None:
    """Per series, --strict refuses a series with a problem before writing it; a rerun with
    --strict over a run without it kept that series' volume (its problem in the manifest),
    exit 0. Now it is refused as in a fresh --strict run, and its old volume removed."""
    src, out = _gap_series(tmp_path / "src"), tmp_path / "out"
    per_series = ConvertOptions(format="npy", per="series")
    first = convert_folder(src, out, per_series, progress=False)
    assert (first.converted, first.skipped, first.outputs) == (1, 0, 1)
    volume = out / _rows(out / "manifest.csv")[0]["output"]
    assert volume.is_file()
    kept = convert_folder(src, out, per_series, progress=False)  # without --strict: kept
    assert (kept.converted, kept.skipped, kept.outputs, kept.exit_code) == (0, 1, 1, 0)
    again = convert_folder(src, out, ConvertOptions(format="npy", per="series", strict=True),
                           progress=False)  # fmt: skip
    assert (again.converted, again.skipped, again.outputs, again.exit_code) == (0, 0, 0, 1)
    assert sorted(name for name, _ in again.failures) == ["g0.dcm", "g1.dcm", "g3.dcm"]
    assert again.failures[0][1].startswith("refused under --strict: ")
    assert _rows(out / "manifest.csv") == [] and not volume.exists() and again.removed == 1


@pytest.mark.parametrize(("files", "more"), [(3, ""), (5, " and 2 more")], ids=["three", "five"])
def test_a_volume_of_files_sharing_a_uid_names_three_and_counts_the_rest(
    tmp_path: Path, files: int, more: str
) -> None:
    """Mutations (shared_series.series_note): "and 8 more" for the two files past the three
    named (len + 3 for len - 3); "and 0 more" after three files (>= 3 for > 3)."""
    src, out = tmp_path / "src", tmp_path / "out"
    series, uid = generate_uid(), generate_uid()
    for z in range(files):  # slices of one SOPInstanceUID, each its own pixels
        _signed_slice(src / f"s{z}.dcm", series, uid, float(z), 10 + z)
    done = convert_folder(src, out, ConvertOptions(format="npy", per="series"), progress=False)
    assert (done.converted, done.outputs, done.failed) == (1, 1, 0)
    [row] = _rows(out / "manifest.csv")
    assert row["problems"] == (
        "SOPInstanceUID shared with another file: instance_key in sources.csv made from UID "
        f"and file for s0.dcm, s1.dcm, s2.dcm{more}"
    )


def test_a_per_series_row_has_the_cells_the_readme_gives_it(tmp_path: Path) -> None:
    """Mutation (tasks._run_series): the row's ``frame`` 1 for 0. Per series, a row is one
    volume: ``instance_key``, ``slice_index`` and ``volume`` (a series of one volume) empty,
    ``frame`` 0, ``num_slices`` its depth (README, ``OUT/manifest.csv``)."""
    src, out = tmp_path / "src", tmp_path / "out"
    for z in range(3):  # three slices 1 mm apart, 4 x 4
        _slice(src / f"s{z}.dcm", z + 1, z)
    convert_folder(src, out, ConvertOptions(format="npy", per="series"), progress=False)
    [row] = _rows(out / "manifest.csv")
    cells = ("source", "instance_key", "frame", "slice_index", "num_slices", "volume", "shape")
    assert {c: row[c] for c in cells} == {
        "source": "s0.dcm", "instance_key": "", "frame": "0", "slice_index": "",
        "num_slices": "3", "volume": "", "shape": "3x4x4",
    }  # fmt: skip


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("png_compression", 0, True), ("png_compression", 9, True),
    ("png_compression", -1, False), ("png_compression", 10, False),
    ("workers", 1, True), ("workers", 0, False), ("max_pixels", 1, True), ("max_pixels", 0, False),
])  # fmt: skip
def test_the_option_bounds_are_inclusive(field: str, value: int, ok: bool) -> None:
    """Mutation (ConvertOptions.resolved): 0 < png_compression refused level 0 (no
    compression), which the CLI's --png-compression offers (choices 0..9)."""
    options = replace(NPY, **{field: value})
    if ok:
        assert getattr(options.resolved(), field) == value
    else:
        with pytest.raises(ConfigError, match=r"png_compression in 0\.\.9"):
            options.resolved()


def test_png_compression_0_from_the_command_line(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 5, 0)
    args = ["convert", str(src), str(out), "--format", "png", "--png-compression", "0", "--quiet"]
    assert main(args) == 0
    [row] = _rows(out / "manifest.csv")
    assert (row["source"], row["format"], row["shape"]) == ("a.dcm", "png", "4x4")
    assert (out / row["output"]).read_bytes().startswith(b"\x89PNG")


def test_a_kept_multi_frame_file_in_no_volume_keeps_its_ranks(tmp_path: Path) -> None:
    """Mutation (collect.as_ranks): a kept file's frames ranked from the highest slice_index
    (-2, -1, 0), which rows in no volume keep: an untouched rerun changed the manifest.
    Here a 3-frame file and a file of another image size make one series: refused per series
    (mixed image sizes), so per instance its rows are in no volume, ranked within the file."""
    src, out = tmp_path / "src", tmp_path / "out"
    _ct(src / "m.dcm", 7, frames=3, series=SERIES, sop=f"{SERIES}.1")
    other = _ct(src / "x.dcm", 7, series=SERIES, sop=f"{SERIES}.2", z=5.0)
    ds = pydicom.dcmread(other)
    ds.Rows, ds.Columns = 2, 8  # the same 16 values, another size
    ds.save_as(other)
    convert_folder(src, out, NPY, progress=False)
    manifest = (out / "manifest.csv").read_bytes()
    cells = [(r["source"], r["slice_index"], r["volume"]) for r in _rows(out / "manifest.csv")]
    assert cells == [("m.dcm", "0", ""), ("m.dcm", "1", ""), ("m.dcm", "2", ""), ("x.dcm", "0", "")]
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.converted, again.skipped) == (0, 2)
    assert (out / "manifest.csv").read_bytes() == manifest


@pytest.mark.parametrize(("slices", "step"), [(1, ""), (2, "1")], ids=["one", "two"])
def test_per_instance_slice_spacing_needs_two_slices(
    tmp_path: Path, slices: int, step: str
) -> None:
    """Mutation (collect.placement): a one-slice volume's rows said slice_spacing 1 (its
    SliceThickness) for empty: there is no step between slices to give (README: ``mm between
    that volume's slices``; ``ManifestDataset`` takes it as the z spacing)."""
    src, out = tmp_path / "src", tmp_path / "out"
    for z in range(slices):  # 1 mm apart
        _slice(src / f"s{z}.dcm", 5, z)
    convert_folder(src, out, NPY, progress=False)
    rows = _rows(out / "manifest.csv")
    assert [(r["volume"], r["num_slices"], r["slice_spacing"]) for r in rows] == [
        ("0", str(slices), step)
    ] * slices


def test_an_output_listed_outside_out_is_never_removed(tmp_path: Path) -> None:
    """Mutation (batch._remove_unlisted): without its check that a listed output lies inside
    OUT, a manifest row naming ``../keep.npy`` (edited by hand, or another tool's) had a
    rerun delete a file outside OUT. Only radpipe's own outputs inside OUT go."""
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 5, 0)
    convert_folder(src, out, NPY, progress=False)
    outside = tmp_path / "keep.npy"
    outside.write_bytes(b"not radpipe's")
    manifest = out / "manifest.csv"
    rows = manifest.read_text(encoding="utf-8").splitlines()
    output, _, rest = rows[1].split(",", 2)  # a row of a file now gone, output outside OUT
    manifest.write_text("\n".join([*rows, f"../keep.npy,gone.dcm,{rest}"]) + "\n")
    again = convert_folder(src, out, NPY, progress=False)
    assert outside.read_bytes() == b"not radpipe's" and again.removed == 0
    assert [r["output"] for r in _rows(manifest)] == [output] and (out / output).is_file()
