"""ImageOrientationPatient that is not two orthogonal unit vectors has no volume geometry:
the series is refused with the reason, rather than written with a NIfTI qform (a rotation)
and sform (the raw vectors) that place the voxels differently (ITK "only supports orthonormal
direction cosines", Anima-Public #108). DS rounding (1e-6) is tolerated.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from tests.pipeline.dicom.geometry_cases import LPS_TO_RAS, enhanced, plane, save
from workflows.cli import main


def _convert(tmp_path: Path, iop: tuple[float, ...], fmt: str = "nifti") -> tuple[int, Path]:
    series = "1.2.826.0.1.3680043.8.498.79"
    normal = np.cross(iop[:3], iop[3:])
    normal /= np.linalg.norm(normal)
    slices = [plane(tuple(2.0 * k * normal), iop=iop, value=10 * k, series=series)
              for k in range(4)]  # fmt: skip
    src = save(tmp_path / "src", slices)
    out = tmp_path / fmt
    return main(["convert", str(src), str(out), "--format", fmt, "--quiet"]), out


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / name, newline="") as f:
        return list(csv.DictReader(f))


def test_non_orthogonal_orientation_refuses_the_volume(tmp_path: Path) -> None:
    code, out = _convert(tmp_path, (1.0, 0.0, 0.0, 0.2, 0.98, 0.0))  # row . column = 0.2
    assert code == 1
    assert _rows(out, "manifest.csv") == []
    reasons = [r["reason"] for r in _rows(out, "errors.csv")]
    assert any("ImageOrientationPatient (0020,0037) is not two orthogonal unit vectors"
               in r and "row . column = 0.2" in r for r in reasons)  # fmt: skip
    # per instance the pixels are still written, the refusal noted on each row
    code, out = _convert(tmp_path, (1.0, 0.0, 0.0, 0.2, 0.98, 0.0), fmt="npy")
    rows = _rows(out, "manifest.csv")
    assert code == 0 and len(rows) == 4
    assert all("not two orthogonal unit vectors" in r["problems"] for r in rows)


def test_rounded_orthonormal_orientation_is_accepted(tmp_path: Path) -> None:
    c, s = 0.866025, 0.5  # cos/sin 30 degrees to 6 decimals: |row . column| ~ 1e-7
    code, out = _convert(tmp_path, (c, s, 0.0, -s, c, 0.0))
    assert code == 0
    rows = _rows(out, "manifest.csv")
    assert len(rows) == 1 and rows[0]["problems"] == ""
    img = nib.load(out / rows[0]["output"])
    assert np.allclose(img.get_qform(), img.get_sform(), atol=1e-4)
    assert img.header.get_zooms() == pytest.approx((1.0, 1.0, 2.0), abs=1e-4)


def test_orientation_rounded_to_two_decimals_is_made_orthonormal_and_noted(
    tmp_path: Path,
) -> None:
    """A 45-degree oblique written to 2 decimals (0.71: lengths 1.004, as some exports and
    anonymisers write it) is a rounding, not another geometry: the volume is written with
    the exact cosines (cos 45 = 0.70711, worked out here), qform equal to sform, and noted."""
    code, out = _convert(tmp_path, (0.71, 0.71, 0.0, -0.71, 0.71, 0.0))
    assert code == 0
    (row,) = _rows(out, "manifest.csv")
    assert row["problems"].startswith("orientation made orthonormal: ImageOrientationPatient "
                                      "row . column = 0, lengths 1.004 and 1.004")  # fmt: skip
    img = nib.load(out / row["output"])
    c = np.cos(np.pi / 4)
    # LPS row (c, c, 0) and column (-c, c, 0) at 1 mm, in RAS: x and y negated
    np.testing.assert_allclose(img.affine[:3, 0], [-c, -c, 0.0], atol=1e-6)
    np.testing.assert_allclose(img.affine[:3, 1], [c, -c, 0.0], atol=1e-6)
    np.testing.assert_allclose(img.get_qform(), img.get_sform(), atol=1e-5)
    assert img.header.get_zooms() == pytest.approx((1.0, 1.0, 2.0), abs=1e-4)
    # far off (0.2) is still refused: test_non_orthogonal_orientation_refuses_the_volume


def _oblique(off: float) -> tuple[float, ...]:
    """30 degrees about z; the row cosines ``1 + off`` long, the column ``1 - off``."""
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    row, col = np.array([c, s, 0.0]) * (1 + off), np.array([-s, c, 0.0]) * (1 - off)
    return tuple(round(float(v), 10) for v in (*row, *col))


@pytest.mark.parametrize("enhanced_object", [False, True], ids=["classic", "enhanced"])
def test_cosines_slightly_off_unit_length_are_normalised_silently(
    tmp_path: Path, enhanced_object: bool
) -> None:
    """Lengths 1 +- 5e-5 (within the 1e-4 tolerance, so no note) were written into the
    affine as given, columns 5e-5 off the pixel spacing: now unit cosines, as dcm2niix
    normalises them (nibabel's dicomwrappers refuse beyond 5e-5 instead)."""
    iop = _oblique(5e-5)
    normal = np.array([0.0, 0.0, 1.0])  # row x column of the exact pair
    positions = [tuple(2.0 * k * normal + [10.0, -5.0, 0.0]) for k in range(4)]
    if enhanced_object:
        src = save(tmp_path / "src", [enhanced(positions, iop=iop)])
    else:
        series = "1.2.826.0.1.3680043.8.498.80"
        src = save(tmp_path / "src", [plane(p, iop=iop, value=7, series=series)
                                      for p in positions])  # fmt: skip
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = _rows(out, "manifest.csv")
    assert row["problems"] == ""
    img = nib.load(out / row["output"])
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    # LPS row (c, s, 0), column (-s, c, 0) at 1 mm; in RAS x and y negated
    np.testing.assert_allclose(img.get_sform()[:3, 0], [-c, -s, 0.0], atol=1e-6)
    np.testing.assert_allclose(img.get_sform()[:3, 1], [s, -c, 0.0], atol=1e-6)
    np.testing.assert_allclose(img.get_sform()[:3, 3], [-10.0, 5.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(img.get_qform(), img.get_sform(), atol=1e-6)
    assert img.header.get_zooms() == pytest.approx((1.0, 1.0, 2.0), abs=1e-6)


@pytest.mark.filterwarnings("ignore:The DICOM readers are highly experimental")
def test_affine_agrees_with_nibabel_dicomwrappers_for_an_oblique_series(tmp_path: Path) -> None:
    """Cosines rounded to 6 decimals (as DS holds them): the first slice placed as nibabel's
    wrapper places it (its array is (row, column), ours (column, row); it is LPS)."""
    from nibabel.nicom.dicomwrappers import wrapper_from_data

    iop = tuple(round(v, 6) for v in _oblique(0.0))
    code, out = _convert(tmp_path, iop)
    assert code == 0
    (row,) = _rows(out, "manifest.csv")
    ours = nib.load(out / row["output"]).affine
    slices = [pydicom.dcmread(p) for p in (tmp_path / "src").glob("*.dcm")]
    first = min(slices, key=lambda ds: float(ds.ImagePositionPatient[2]))  # normal is +z
    theirs = LPS_TO_RAS @ wrapper_from_data(first).affine
    np.testing.assert_allclose(ours[:3, 0], theirs[:3, 1], atol=1e-5)
    np.testing.assert_allclose(ours[:3, 1], theirs[:3, 0], atol=1e-5)
    np.testing.assert_allclose(ours[:3, 3], theirs[:3, 3], atol=1e-5)


def test_cosines_orthonormal_up_to_float_rounding_are_kept_bit_for_bit(tmp_path: Path) -> None:
    """dcm_qa_ts's ImageOrientationPatient, ``1\\-1e-016\\0\\1e-016\\0.99415096409965\\
    -0.1079993545339``: its column's length is 1 within float64 rounding (1.3e-15 from the
    check itself), so the cosines are used as written; replacing them by the nearest
    orthonormal pair changed the affine by 1.9e-18 (a 0 became 1.9e-18, every NIfTI's bytes
    changed for nothing). The sform's x column is the row cosine exactly: (-1, 1e-16, 0) in
    RAS, times the 1 mm pixel spacing, as float32 (the NIfTI header's type)."""
    iop = (1.0, -1e-16, 0.0, 1e-16, 0.99415096409965, -0.1079993545339)
    code, out = _convert(tmp_path, iop)
    assert code == 0
    (row,) = _rows(out, "manifest.csv")
    assert row["problems"] == ""
    sform = nib.load(out / row["output"]).get_sform()
    as_stored = np.array([[-1.0, 1e-16, 0.0], [-1e-16, -0.99415096409965, -0.1079993545339]],
                         np.float32)  # fmt: skip
    assert sform[:3, 0].tolist() == as_stored[0].tolist()
    assert sform[:3, 1].tolist() == as_stored[1].tolist()
