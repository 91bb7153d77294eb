"""A grossly non-orthonormal ImageOrientationPatient on one file refuses its series naming it.

The refusal (``ImageOrientationPatient (0020,0037) is not two orthogonal unit vectors``) named
the series' first file, a good slice, and every other file "failed on" it, the damaged one
included; now the file whose orientation is at fault is named.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.pipeline.dicom.geometry_cases import plane, save
from workflows.cli import main


def test_the_file_with_the_bad_orientation_is_named(tmp_path: Path) -> None:
    series = "1.2.826.0.1.3680043.8.498.3703"
    slices = [plane((0.0, 0.0, 2.0 * k), value=100 + k, series=series) for k in range(4)]
    bad = plane((0.0, 0.0, 8.0), (1.0, 0.3, 0.0, 0.0, 1.0, 0.0), value=200, series=series)
    src = save(tmp_path / "src", [*slices, bad], ["a0", "a1", "a2", "a3", "z9"])
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    with open(out / "errors.csv", newline="") as f:
        errors = {r["source"]: r["reason"] for r in csv.DictReader(f)}
    assert errors.pop("z9.dcm").endswith(
        "refused: ImageOrientationPatient (0020,0037) is not two orthogonal unit vectors (row "
        ". column = 0.3, lengths 1.044 and 1): no volume geometry"
    )  # |(1, 0.3, 0)| = sqrt(1.09) = 1.044
    assert errors == {f"a{k}.dcm": "not converted: its series failed on z9.dcm" for k in range(4)}
