"""A DWI's ``.bval`` / ``.bvec`` follow their NIfTI: removed with it (a rerun drops a removed
series' outputs: the sidecars stayed behind, describing no file), removed when it is
rewritten without them, and written for ``--split-4d`` volumes (each 3-D volume one b-value
and direction; they had none, unsaid)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.test_diffusion_sidecars import _dwi, _sidecar, as_time_points
from workflows.cli import main

AXIAL = ([1.0, 0, 0, 0, 1, 0], [0.0, 0, 1])


def _convert(src: Path, out: Path, *extra: str) -> list[dict[str, str]]:
    args = ["convert", str(src), str(out), "--format", "nifti", "--per", "series", "--quiet"]
    assert main([*args, *extra]) == 0
    return read_manifest(out / "manifest.csv")


def _files(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.is_file() and p.parent != out)


def test_sidecars_go_with_a_removed_series(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _dwi(src / "dwi", *AXIAL)
    _dwi(src / "other", *AXIAL, SeriesInstanceUID="1.2.3.5")
    rows = _convert(src, out)
    dwi = next(r for r in rows if r["source"].startswith("dwi/"))
    key = dwi["series_key"]
    assert {f"{key}.bval", f"{key}.bvec"} <= set(_files(out))
    shutil.rmtree(src / "dwi")
    (row,) = _convert(src, out)
    assert row["series_key"] != key
    key = row["series_key"]
    assert _files(out) == sorted(f"{key}.{ext}" for ext in ("nii.gz", "bval", "bvec", "json"))


def test_sidecars_go_when_the_nifti_is_rewritten_without_them(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _dwi(src, *AXIAL)
    (row,) = _convert(src, out)
    as_time_points(src)  # the same series now without diffusion attributes
    (again,) = _convert(src, out)
    assert again["output"] == row["output"]
    assert _files(out) == sorted([Path(row["output"]).name, f"{row['series_key']}.json"])


def test_split_4d_volumes_get_their_own_sidecars(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _dwi(src, *AXIAL)
    (row,) = _convert(src, out)
    rows = _convert(src, out, "--split-4d")
    assert len(rows) == 4
    key = row["series_key"]
    names = [
        f"{key}_s{t:02d}.{ext}" for t in range(4) for ext in ("bval", "bvec", "json", "nii.gz")
    ]
    assert _files(out) == sorted(names)  # the 4-D file's sidecars are gone with it
    folder = out / Path(row["output"]).parent
    # axial, RAS affine diag(-1, -1, 2), det > 0: LPS x -> i = 1, negated for FSL
    expected = [(0, [0, 0, 0]), (1000, [-1, 0, 0]), (1000, [0, 1, 0]), (1000, [0, 0, 1])]
    for t, (b, g) in enumerate(expected):
        nifti = folder / f"{key}_s{t:02d}.nii.gz"
        assert _sidecar(nifti, ".bval") == [[b]]
        assert _sidecar(nifti, ".bvec") == [[v] for v in g]
