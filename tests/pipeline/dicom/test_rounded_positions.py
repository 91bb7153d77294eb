"""Evenly spaced slices whose ImagePositionPatient is written to 0.1 mm are evenly spaced.

dcm2niix #216, #325: some writers (GE's float32 positions, exporters printing ``%.1f``) keep
positions "in low precision", so the distances between slices carry rounding errors. radpipe
took them at face value: a 0.625 mm CT written to 0.1 mm (steps of 0.6 and 0.7 mm) was
"resampled: uneven slice spacing" onto 21 slices of 0.595 mm, every slice interpolated; an
oblique MR's in-plane origins, off by up to 0.1 mm per coordinate, were "tilt corrected: 0.0
degrees", each slice shifted in-plane; and GE's interleaved odd and even slices (two
AcquisitionNumbers) were split into two "passes". The expected geometry here is the true
one the positions were rounded from, worked out by hand; values are each slice's own.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.dicom.rounding import even_fit, line_rounding, position_unit, rounded_grid
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder

STEP = 0.625  # mm: a thin CT reconstruction


def _series(folder: Path, true_positions: np.ndarray, iop=G.AXIAL, **attrs: object) -> Path:
    """One slice per position, written ``%.1f``; slice k holds the value k."""
    series = generate_uid()
    slices = []
    for k, p in enumerate(true_positions):
        ds = G.plane([0.0, 0.0, 0.0], iop=iop, value=k, series=series, sop_class=G.CT,
                     RescaleSlope=1, RescaleIntercept=0, InstanceNumber=k + 1,
                     SliceThickness=STEP, **{a: v(k) if callable(v) else v
                                             for a, v in attrs.items()})  # fmt: skip
        ds.ImagePositionPatient = [f"{v:.1f}" for v in p]
        slices.append(ds)
    return G.save(folder, slices)


def _convert(src: Path, out: Path, tilt: str = "resample") -> list[dict[str, str]]:
    options = ConvertOptions(format="nifti", tilt=tilt)
    result = convert_folder(src, out, options, progress=False)
    assert result.exit_code == 0
    with (out / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


def _axial(count: int, skip: tuple[int, ...] = ()) -> np.ndarray:
    return np.array([[10.0, -20.0, -100.0 + STEP * k] for k in range(count) if k not in skip])


def test_thin_slices_written_to_a_tenth_of_a_mm_are_not_resampled(tmp_path: Path) -> None:
    src = _series(tmp_path / "in", _axial(20))
    rows = _convert(src, tmp_path / "out")
    assert {r["problems"] for r in rows} == {""}  # was 'resampled: uneven slice spacing ...'
    img = nib.load(str(tmp_path / "out" / rows[0]["output"]))
    assert img.shape == (8, 8, 20)  # was 21 slices of 0.595 mm
    data = np.asarray(img.dataobj)
    assert data[0, 0].tolist() == list(range(20))  # each slice's own pixels, not interpolated
    # RAS = diag(-1, -1, 1) LPS; column i along +x LPS, row j along +y, slices 0.625 mm up
    expected = np.array(
        [[-1.0, 0, 0, -10.0], [0, -1.0, 0, 20.0], [0, 0, STEP, -100.0], [0, 0, 0, 1]]
    )
    assert np.allclose(img.affine, expected, atol=0.05)
    assert abs(img.affine[2, 2] - STEP) < 0.005  # 0.6 or 0.7 by two rounded positions


def test_a_missing_slice_is_filled_on_the_true_grid(tmp_path: Path) -> None:
    src = _series(tmp_path / "in", _axial(20, skip=(9,)))
    rows = _convert(src, tmp_path / "out")
    # the rounding neither hides the gap nor sets the grid: it was 'uneven slice spacing:
    # steps from 0.6 to 1.3 mm, 19 slices -> 21 of 0.595 mm', every slice interpolated
    assert rows[0]["problems"] == (
        "resampled: missing slices: 1 gap of up to 1.25 mm in a 0.625 mm spacing (about 1 "
        "slice missing), 19 slices -> 20 of 0.625 mm along the normal"
    )
    img = nib.load(str(tmp_path / "out" / rows[0]["output"]))
    assert img.shape == (8, 8, 20)
    # slot 9 is the missing slice, halfway between slice values 8 and 9 (file 10 holds 9)
    assert np.asarray(img.dataobj)[0, 0].tolist() == [*range(9), 8.5, *range(9, 19)]
    assert abs(img.affine[2, 2] - STEP) < 0.005 and abs(img.affine[2, 3] + 100.0) <= 0.05


def test_oblique_slices_written_to_a_tenth_of_a_mm_are_no_tilt(tmp_path: Path) -> None:
    angle = math.radians(20)
    row, column = np.array([1.0, 0, 0]), np.array([0, math.cos(angle), -math.sin(angle)])
    normal = np.cross(row, column)  # (0, sin, cos): 3 mm apart along it
    true = np.array([[-100.0, -90.0, 20.0] + 3.0 * k * normal for k in range(12)])
    iop = [*row, *column]
    src = _series(tmp_path / "in", true, iop=iop)
    rows = _convert(src, tmp_path / "out")
    assert {r["problems"] for r in rows} == {""}  # was 'tilt corrected: 0.0 degrees, ...'
    img = nib.load(str(tmp_path / "out" / rows[0]["output"]))
    data = np.asarray(img.dataobj)
    assert np.array_equal(data, np.broadcast_to(np.arange(12), (8, 8, 12)))  # not shifted
    flip = np.array([-1.0, -1.0, 1.0])
    assert np.allclose(img.affine[:3, 0], flip * row, atol=1e-4)
    assert np.allclose(img.affine[:3, 1], flip * column, atol=1e-4)
    assert np.allclose(img.affine[:3, 2], flip * 3.0 * normal, atol=0.01)
    assert np.allclose(img.affine[:3, 3], flip * true[0], atol=0.1)


def test_a_tilted_ct_written_to_a_tenth_is_only_tilted(tmp_path: Path) -> None:
    # gantry tilted 15 degrees: image plane tilted about x, the table steps 0.625 mm along z
    tilt = math.radians(15)
    iop = [1.0, 0, 0, 0, math.cos(tilt), math.sin(tilt)]
    true = np.array([[-100.0, -100.0, STEP * k] for k in range(10)])
    src = _series(tmp_path / "in", true, iop=iop)
    rows = _convert(src, tmp_path / "corrected")
    # was also 'resampled: uneven slice spacing: steps from 0.58 to 0.676 mm, ...'
    assert rows[0]["problems"] == (
        "tilt corrected: 15.0 degrees, slices resampled in-plane onto an orthogonal grid"
    )
    img = nib.load(str(tmp_path / "corrected" / rows[0]["output"]))
    # normal = row x column = (0, -sin, cos) LPS, slices cos(15) x 0.625 mm apart along it
    along = STEP * math.cos(tilt)
    expected = np.array([0.0, math.sin(tilt), math.cos(tilt)]) * along  # RAS
    assert img.shape[2] == 10 and np.allclose(img.affine[:3, 2], expected, atol=0.005)
    rows = _convert(src, tmp_path / "kept", tilt="keep")  # was refused: 'uneven or non-collinear'
    assert rows[0]["problems"] == "tilt kept: 15.0 degrees, sheared affine (NIfTI sform only)"
    img = nib.load(str(tmp_path / "kept" / rows[0]["output"]))
    assert np.allclose(img.get_sform()[:3, 2], [0.0, 0.0, STEP], atol=0.005)  # the table step
    assert int(img.header["qform_code"]) == 0


def test_interleaved_acquisitions_written_to_a_tenth_are_one_volume(tmp_path: Path) -> None:
    # GE acquires odd and even slices as two AcquisitionNumbers; one evenly spaced volume
    src = _series(tmp_path / "in", _axial(20), AcquisitionNumber=lambda k: 1 + k % 2)
    rows = _convert(src, tmp_path / "out")
    assert len({r["output"] for r in rows}) == 1  # was 'split: 2 passes by AcquisitionNumber'
    assert {r["problems"] for r in rows} == {""}
    data = np.asarray(nib.load(str(tmp_path / "out" / rows[0]["output"])).dataobj)
    assert data[0, 0].tolist() == list(range(20))


def test_position_unit_reads_float32_noise_as_the_tenth() -> None:
    written = np.array([[17.600000, -92.500000, 98.099998], [14.600000, -92.5, 98.099998]])
    assert position_unit(written) == 0.1
    assert position_unit(np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])) == 0.1  # never 1 mm
    assert position_unit(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.625]])) == 0.0


def test_even_fit_finds_the_grid_and_never_explains_a_gap() -> None:
    # -100 + 0.625 k written %.1f: -100.0, -99.4, -98.8, -98.1, -97.5
    fit = even_fit(np.array([0.0, 0.6, 1.2, 1.9, 2.5]), 0.1)
    assert fit is not None
    assert abs(fit[0]) <= 0.05 and abs(fit[1] - STEP) <= 0.025
    assert even_fit(np.array([0.0, 0.6, 1.2, 2.5, 3.1]), 0.1) is None  # a slice missing
    # 0.33 mm slices with the second missing, rounded: 0, 0.6, 1.0 could be an even 0.5 mm
    # grid within 0.05 mm, but a step of 0.4 is too close to the rounding to tell
    assert even_fit(np.array([0.0, 0.6, 1.0]), 0.1) is None


def test_rounded_grid_places_slices_across_a_wide_gap() -> None:
    # slots 0-4 and 15-19 of a 0.625 mm grid, written %.1f: 10 slices missing between
    slots = np.r_[0:5, 15:20]
    written = np.array([[0.0, 0.0, float(f"{-100.0 + STEP * k:.1f}")] for k in slots])
    rel = written[:, 2] - written[0, 2]
    found = rounded_grid(written, rel, np.array([0.0, 0.0, 1.0]))
    assert found is not None
    assert np.allclose(np.diff(found) / STEP, np.diff(slots), atol=0.01)  # 1 1 1 1 11 1 1 1 1


def test_whole_millimetre_positions_lend_no_rounding_to_a_tilt(tmp_path: Path) -> None:
    # two axial slices 4 mm apart whose origin moves 1 mm along y: a 14-degree shear, not
    # rounding, though every coordinate is a whole millimetre
    src = _series(tmp_path / "in", np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 4.0]]))
    rows = _convert(src, tmp_path / "out")
    assert rows[0]["problems"].startswith("tilt corrected: 14.0 degrees")


def test_the_header_step_is_taken_when_the_rounding_allows_it(tmp_path: Path) -> None:
    # ten 0.625 mm slices written to 0.1 mm fit any step from 0.625 to 0.633 mm (worked out
    # by hand from -100.0, -99.4, -98.8, -98.1, ...); the minimax step alone was 0.6286 mm
    # ('in a 0.629 mm spacing'); SliceThickness 0.625 (_series) is one that fits
    src = _series(tmp_path / "in", _axial(10))
    rows = _convert(src, tmp_path / "out")
    img = nib.load(str(tmp_path / "out" / rows[0]["output"]))
    assert rows[0]["problems"] == "" and img.shape == (8, 8, 10)
    assert abs(img.affine[2, 2] - STEP) < 1e-6 and abs(img.affine[2, 3] + 100.0) <= 0.05
    assert rows[0]["slice_spacing"] == "0.625"
    gap = _convert(_series(tmp_path / "gap", _axial(10, skip=(5,))), tmp_path / "gap_out")
    assert gap[0]["problems"] == (
        "resampled: missing slices: 1 gap of up to 1.25 mm in a 0.625 mm spacing (about 1 "
        "slice missing), 9 slices -> 10 of 0.625 mm along the normal"
    )  # was 'in a 0.629 mm spacing ... -> 10 of 0.6286 mm'


def test_three_slices_written_to_a_tenth_are_on_their_grid(tmp_path: Path) -> None:
    # the fewest slices that have a grid: z -99.98, -99.355, -98.73 written -100.0, -99.4,
    # -98.7 (steps 0.6 and 0.7, by hand) stand for the SliceThickness step 0.625, taken as it
    # is: no 'uneven slice spacing', no slice interpolated
    src = _series(tmp_path / "in", _axial(3) + np.array([0.0, 0.0, 0.02]))
    rows = _convert(src, tmp_path / "out")
    img = nib.load(str(tmp_path / "out" / rows[0]["output"]))
    assert rows[0]["problems"] == "" and img.shape == (8, 8, 3)
    assert np.asarray(img.dataobj)[0, 0].tolist() == [0, 1, 2]
    assert abs(img.affine[2, 2] - STEP) < 1e-6
    # the first slice sits mid-way among the offsets the rounding allows: rel - 0.625 k is
    # 0, -0.025, 0.05, each within +-0.05, so offsets 0 .. 0.025, the middle 0.0125 mm
    assert abs(img.affine[2, 3] - (-100.0 + 0.0125)) < 1e-4


@pytest.mark.parametrize(
    ("header", "grid"),
    [(0.6, [0.05, 0.65, 1.25]), (0.58, [-0.025, 0.625, 1.275]), (None, [-0.025, 0.625, 1.275])],
    ids=["header-fits", "header-does-not-fit", "no-header"],
)
def test_a_header_step_is_taken_only_within_the_rounding(
    header: float | None, grid: list[float]
) -> None:
    """Distances 0, 0.6, 1.3 written to 0.1 mm are each within 0.05 mm of the truth (by hand).
    Step 0.6 fits (offsets rel - 0.6 k = 0, 0, 0.1 meet only at 0.05); 0.58 does not (0, 0.02,
    0.14 span more than 0.1), so the minimax grid stands: step 0.65, offset -0.025, each slice
    0.025 mm off (equal and alternating deviations)."""
    z = np.array([0.0, 0.6, 1.3])
    positions = np.c_[np.full(3, 10.0), np.full(3, -20.0), z - 100.0]
    found = rounded_grid(positions, z, np.array([0.0, 0.0, 1.0]), header)
    assert found is not None and np.allclose(found, grid, atol=1e-9)
    assert float(np.abs(found - z).max()) <= 0.05 + 1e-9


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        # y and z vary, steps 2.02 mm: 0.1 mm in each of 2 coordinates, 0.1 * sqrt(2)
        ([[10.0, 0.0, 0.0], [10.0, 0.7, 1.9], [10.0, 1.4, 3.8]], 0.1 * np.sqrt(2)),
        # x, y, z vary, steps 0.469 mm: 0.1 * sqrt(3) = 0.173 capped at 0.2 of the step
        ([[0.0, 0.0, 0.0], [0.3, 0.2, 0.3], [0.6, 0.4, 0.6]], 0.2 * np.sqrt(0.22)),
        # 0.35 is no multiple of 0.1: written finely, no rounding
        ([[0.0, 0.0, 0.0], [0.0, 0.35, 1.9], [0.0, 0.7, 3.8]], 0.0),
    ],
    ids=["two-coordinates", "capped-by-the-step", "written-finely"],
)
def test_line_rounding_of_an_oblique_stack(positions: list[list[float]], expected: float) -> None:
    assert abs(line_rounding(np.array(positions)) - expected) < 1e-12
