"""An NPY volume keeps what its NIfTI would: a DWI's ``.bval`` / ``.bvec`` and the time step
of time points. ``--format npy --per series`` of a diffusion series wrote the ``(T, D, H, W)``
array alone, so which volume was b = 0 and which direction each held was lost; a dynamic or
cine NPY lost its time step (NIfTI's ``pixdim[4]``).

The NPY is ``(T, D, H, W)``: slice, row, column, the reverse of NIfTI's ``(i, j, k)``. Its
``.bvec`` gives each gradient along those axes, in that order, with no FSL flip; the expected
vectors are worked out by hand from the headers below."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.tag import Tag

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.test_cine_time import _cine
from tests.pipeline.dicom.test_diffusion_sidecars import _dwi, as_time_points
from workflows.cli import main

#: Sagittal: ImageOrientationPatient row (column index) +y, column (row index) -z; the
#: slices are placed 2 mm apart along LPS -x (row x column = -x).
SAGITTAL = ([0.0, 1, 0, 0, 0, -1], [-1.0, 0, 0])
#: b = 0, then two directions: LPS x, and (0, 0.6, 0.8).
TWO = [(0, None), (1000, [1.0, 0.0, 0.0]), (1000, [0.0, 0.6, 0.8])]


def _convert(src: Path, out: Path, fmt: str = "npy", *extra: str) -> list[dict[str, str]]:
    args = ["convert", str(src), str(out), "--format", fmt, "--per", "series", "--quiet"]
    assert main([*args, *extra]) == 0
    return read_manifest(out / "manifest.csv")


def _numbers(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines()]


def _beside(output: Path, suffix: str) -> Path:
    return output.with_name(output.name.removesuffix(".npy").removesuffix(".nii.gz") + suffix)


def test_a_dwi_npy_gets_bval_and_bvec_along_its_own_axes(tmp_path: Path) -> None:
    _dwi(tmp_path / "src", *SAGITTAL, TWO)
    (row,) = _convert(tmp_path / "src", tmp_path / "out")
    npy = tmp_path / "out" / row["output"]
    array = np.load(npy)
    # (T, D, H, W): volume t, slice z holds 100 t + z (slice 0 the first placed, at x = 0)
    assert array.shape == (3, 3, 4, 4)
    assert array[:, :, 0, 0].tolist() == [[0, 1, 2], [100, 101, 102], [200, 201, 202]]
    assert _numbers(_beside(npy, ".bval")) == [[0, 1000, 1000]]
    # slice axis LPS -x, row axis LPS -z, column axis LPS +y:
    # (1, 0, 0) -> slice -1; (0, 0.6, 0.8) -> row -0.8, column 0.6; b = 0 -> 0 0 0
    expected = [[0, -1, 0], [0, 0, -0.8], [0, 0, 0.6]]
    assert np.allclose(_numbers(_beside(npy, ".bvec")), expected, atol=1e-6)
    # the same series as NIfTI: FSL's (i, j, k) with i negated (det > 0) is the NPY's
    # (column, row, slice) with the column negated
    (nrow,) = _convert(tmp_path / "src", tmp_path / "nifti", "nifti")
    nifti = tmp_path / "nifti" / nrow["output"]
    assert np.linalg.det(nib.load(nifti).affine[:3, :3]) > 0
    fsl = np.array(_numbers(_beside(nifti, ".bvec")))
    assert np.allclose(fsl, np.array(expected)[::-1] * [[-1], [1], [1]], atol=1e-6)


def test_a_dwi_npys_time_step_is_its_niftis(tmp_path: Path) -> None:
    _dwi(tmp_path / "src", *SAGITTAL, TWO)
    (row,) = _convert(tmp_path / "src", tmp_path / "out")
    sidecar = json.loads(_beside(tmp_path / "out" / row["output"], ".json").read_text())
    # the volumes 3 s apart (AcquisitionTime 10:00:00, :03, :06), the RepetitionTime 3000 ms
    assert sidecar == {"axes": ["time", "slice", "row", "column"], "time_step_s": 3.0}
    (nrow,) = _convert(tmp_path / "src", tmp_path / "nifti", "nifti")
    assert nib.load(tmp_path / "nifti" / nrow["output"]).header.get_zooms()[3] == 3.0
    beside = json.loads(_beside(tmp_path / "nifti" / nrow["output"], ".json").read_text())
    assert "axes" not in beside and "time_step_s" not in beside  # its header; BIDS sidecar


def test_split_volumes_get_one_entry_sidecars_and_no_time_step(tmp_path: Path) -> None:
    _dwi(tmp_path / "src", *SAGITTAL, TWO)
    rows = _convert(tmp_path / "src", tmp_path / "out", "npy", "--split-4d")
    directions = {0: [0, 0, 0], 1: [-1, 0, 0], 2: [0, -0.8, 0.6]}  # slice, row, column
    assert sorted(int(r["volume"]) for r in rows) == [0, 1, 2]
    for r in rows:
        t, npy = int(r["volume"]), tmp_path / "out" / r["output"]
        assert np.load(npy)[:, 0, 0].tolist() == [100 * t, 100 * t + 1, 100 * t + 2]
        assert _numbers(_beside(npy, ".bval")) == [[TWO[t][0]]]
        assert np.allclose(_numbers(_beside(npy, ".bvec")), [[v] for v in directions[t]],
                           atol=1e-6)  # fmt: skip
        assert not _beside(npy, ".json").exists()  # 3-D: no time axis


@pytest.mark.parametrize(
    ("attrs", "step"),
    [
        ({"FrameTime": 33.3, "FrameIncrementPointer": Tag(0x0018, 0x1063)}, 0.0333),
        ({"FrameTimeVector": [0, 30, 40, 30, 40],
          "FrameIncrementPointer": Tag(0x0018, 0x1065)}, 0.035),
    ],
    ids=["frame-time", "frame-time-vector"],
)  # fmt: skip
def test_a_cine_npy_records_its_frame_time(
    tmp_path: Path, attrs: dict[str, object], step: float
) -> None:
    (row,) = _convert(_cine(tmp_path, **attrs), tmp_path / "out")
    npy = tmp_path / "out" / row["output"]
    assert np.load(npy).shape == (5, 6, 8)  # (T, H, W) as before
    sidecar = json.loads(_beside(npy, ".json").read_text())
    assert sidecar["axes"] == ["time", "row", "column"]
    assert sidecar["time_step_s"] == pytest.approx(step, abs=1e-12)


def test_a_cine_without_frame_time_gets_no_sidecar(tmp_path: Path) -> None:
    (row,) = _convert(_cine(tmp_path), tmp_path / "out")
    folder = (tmp_path / "out" / row["output"]).parent
    assert sorted(p.name for p in folder.iterdir()) == [Path(row["output"]).name]


def test_npy_sidecars_go_with_their_output(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _dwi(src / "dwi", *SAGITTAL, TWO)
    (row,) = _convert(src, out)
    key = row["series_key"]
    names = [f"{key}.{ext}" for ext in ("bval", "bvec", "json", "npy")]
    assert sorted(p.name for p in out.rglob("*") if p.parent != out) == names
    as_time_points(src / "dwi")  # no longer diffusion-weighted: still 4-D, 3 s apart
    (again,) = _convert(src, out)
    assert again["output"] == row["output"]
    assert sorted(p.name for p in out.rglob("*") if p.parent != out) == [f"{key}.json",
                                                                        f"{key}.npy"]  # fmt: skip
    shutil.rmtree(src / "dwi")
    _dwi(src / "other", *SAGITTAL, TWO, SeriesInstanceUID="1.2.3.5")
    (other,) = _convert(src, out)
    assert other["series_key"] != key
    assert not list(out.rglob(f"{key}.*"))  # the removed series' sidecars went with it


@pytest.mark.parametrize("fmt", ["npy", "nifti"])
def test_resuming_an_earlier_radpipes_folder_writes_the_sidecars(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder converted per series before the sidecars existed (its convert.json without
    "sidecars", no .bval/.bvec/.json) was resumed as done: its volumes stayed without them,
    unsaid. Its series are now converted again, said once; the next rerun resumes."""
    _dwi(tmp_path / "src", *SAGITTAL, TWO)
    out = tmp_path / "out"
    assert len(_convert(tmp_path / "src", out, fmt)) == 1
    written = _sidecars(out)
    assert len(written) == 3  # .bval, .bvec and .json (an NPY's time step, a NIfTI's BIDS)
    settings = json.loads((out / "convert.json").read_text())
    assert settings.pop("sidecars") == 4
    (out / "convert.json").write_text(json.dumps(settings))  # as an earlier radpipe left it
    for name in written:
        next(out.rglob(name)).unlink()
    capsys.readouterr()
    args = ["convert", str(tmp_path / "src"), str(out), "--format", fmt, "--per", "series"]
    assert main(args) == 0
    said = capsys.readouterr()
    assert "every series converted again to write them" in said.err
    assert "(1 converted, 0 already done)" in said.out
    assert _sidecars(out) == written
    assert main(args) == 0  # recorded now: resumed, nothing said
    said = capsys.readouterr()
    assert "(0 converted, 1 already done)" in said.out and "converted again" not in said.err


def _sidecars(out: Path) -> list[str]:
    """The sidecars in a conversion folder (its own convert.json aside)."""
    return sorted(p.name for p in out.rglob("*")
                  if p.suffix in (".bval", ".bvec", ".json") and p.parent != out)  # fmt: skip
