"""Fuzz suite: a few hundred mutants of seeds in every layout the project decodes (native LE
and BE, implicit VR, deflate, RLE, JPEG, JPEG-LS, JPEG 2000, multi-frame, colour, float, LUTs,
DICOMDIR). Reading never raises, every file is accounted for once, failures leave nothing.
``benchmarks/fuzz.py`` runs the same at 10,000+ files and reports memory and time."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.dicom.files import escape_name, find_files
from pipeline.dicom.index import index_folder
from pipeline.synth.mutants import seed_files, write_mutants
from workflows.convert.batch import ConvertOptions, convert_folder

N_MUTANTS = 300


@pytest.fixture(scope="module")
def mutants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "in"
    write_mutants(folder, N_MUTANTS, seed=12)
    return folder


def test_seeds_cover_every_layout() -> None:
    seeds = seed_files(0)
    for name in ("ct16", "implicit_voi_lut", "bigendian", "deflate", "multiframe_modality_lut",
                 "rgb", "float", "rle", "rle_3frames", "jpegls", "j2k", "jpeg_grey",
                 "jpeg_color"):  # fmt: skip
        assert name in seeds, name


def test_every_mutant_converted_or_refused_once(mutants: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = convert_folder(mutants, out, ConvertOptions(format="png"), progress=False)
    with (out / "manifest.csv").open(newline="") as fh:
        manifest = list(csv.DictReader(fh))
    with (out / "errors.csv").open(newline="") as fh:
        error_rows = list(csv.DictReader(fh))
    errors = [r["source"] for r in error_rows]
    copies = {r["source"] for r in error_rows if r["reason"].startswith("duplicate of")}
    found = {escape_name(f.rel) for f in find_files(mutants)}
    listed = {r["source"] for r in manifest}
    assert len(found) == N_MUTANTS + len(seed_files(12))
    assert listed.isdisjoint(errors) and len(errors) == len(set(errors))
    assert listed | set(errors) == found
    assert result.converted > 50 and result.failed > 50  # both paths are exercised
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk - {r["output"] for r in manifest} == {
        "manifest.csv", "errors.csv", "convert.json", ".radpipe-convert.lock",
        ".source-stat.csv"}  # fmt: skip
    seeds_ok = {r["source"] for r in manifest if r["source"].startswith("seed_")} | copies
    assert {s for s in found if s.startswith("seed_") and "DICOMDIR" not in s
            and "JPGExtended" not in s} <= seeds_ok  # fmt: skip


def test_index_never_raises_and_accounts_for_every_file(mutants: Path) -> None:
    index = index_folder(mutants)
    instances = sum(len(s.instances) for s in index.series)
    assert instances + len(index.problems) == index.files_scanned == N_MUTANTS + len(seed_files(12))


def test_per_series_every_mutant_listed_once_and_rerun_resumes(
    mutants: Path, tmp_path: Path
) -> None:
    """``--per series``: one manifest row per volume; every file of a written volume has its
    ``sources.csv`` rows (one per frame and volume), every other file one
    ``errors.csv`` row; a rerun with nothing changed redoes no series and lists the same."""
    out = tmp_path / "out"
    options = ConvertOptions(format="npy", per="series")
    result = convert_folder(mutants, out, options, progress=False)
    with (out / "manifest.csv").open(newline="") as fh:
        manifest = list(csv.DictReader(fh))
    with (out / "sources.csv").open(newline="") as fh:
        files = list(csv.DictReader(fh))
    with (out / "errors.csv").open(newline="") as fh:
        errors = [r["source"] for r in csv.DictReader(fh)]
    assert len({r["output"] for r in manifest}) == len(manifest)
    assert {r["output"] for r in files} == {r["output"] for r in manifest}
    pairs = [(r["source"], r["output"], r["frame"]) for r in files]
    assert len(pairs) == len(set(pairs))
    listed = {r["source"] for r in files}
    found = {escape_name(f.rel) for f in find_files(mutants)}
    assert listed.isdisjoint(errors) and len(errors) == len(set(errors))
    assert listed | set(errors) == found
    assert result.outputs == len(manifest) >= 5
    again = convert_folder(mutants, out, options, progress=False)
    assert again.converted == 0 and again.skipped == result.converted
    with (out / "sources.csv").open(newline="") as fh:
        again_rows = csv.DictReader(fh)
        assert sorted(pairs) == sorted((r["source"], r["output"], r["frame"]) for r in again_rows)
    with (out / "errors.csv").open(newline="") as fh:
        assert sorted(errors) == sorted(r["source"] for r in csv.DictReader(fh))
