"""SpacingBetweenSlices (0018,0088) that disagrees with the slices' ImagePositionPatient.

The volume takes the step between the positions, as dcm2niix does (a protocol value, or a
Siemens ToF's 16 mm for 0.5 mm slices, is no step); until 2026-12-02 the disagreement was
unsaid. Now the note names both values. SliceThickness is not a step (a gap or an overlap is
normal): it is never compared.

Expected by construction: four slices at z = 0, 2, 4, 6 mm, so the step is 2 mm whatever the
header says; nibabel reads the written zoom.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.geometry_cases import plane, save
from workflows.cli import main

NOTE = (
    "slice spacing: SpacingBetweenSlices (0018,0088) 3 mm differs from the 2 mm step between "
    "the slices' ImagePositionPatient, which the volume uses (as dcm2niix)"
)


def _convert(tmp_path: Path, **attrs: float) -> tuple[nib.Nifti1Image, str]:
    series = "1.2.826.0.1.3680043.8.498.3701"
    slices = [plane((0.0, 0.0, 2.0 * k), value=10 * k, series=series, **attrs) for k in range(4)]
    src, out = save(tmp_path / "src", slices), tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    return nib.load(out / row["output"]), row["problems"]


def test_a_disagreeing_spacing_is_said_and_the_positions_used(tmp_path: Path) -> None:
    image, problems = _convert(tmp_path, SpacingBetweenSlices=3.0, SliceThickness=3.0)
    assert problems == NOTE
    assert image.header.get_zooms()[2] == pytest.approx(2.0)
    np.testing.assert_allclose(image.affine[:3, 2], [0.0, 0.0, 2.0])  # RAS z, 2 mm
    assert np.asarray(image.dataobj)[0, 0, :].tolist() == [0, 10, 20, 30]


@pytest.mark.parametrize(
    "attrs",
    [
        {"SpacingBetweenSlices": 2.0, "SliceThickness": 3.0},  # overlapping slices
        {"SliceThickness": 1.0},  # a 1 mm gap: normal, no SpacingBetweenSlices
        {"SpacingBetweenSlices": 2.009},  # within 0.01 mm
        {"SpacingBetweenSlices": -2.0},  # the sign some exporters write: a size
    ],
    ids=["overlap", "gap", "rounded", "negative"],
)
def test_agreeing_spacing_and_any_thickness_are_no_problem(
    tmp_path: Path, attrs: dict[str, float]
) -> None:
    image, problems = _convert(tmp_path, **attrs)
    assert problems == ""
    assert image.header.get_zooms()[2] == pytest.approx(2.0)
