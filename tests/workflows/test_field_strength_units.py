"""MagneticFieldStrength (0018,0087) in the NIfTI's JSON sidecar is in tesla (BIDS; PS3.3
C.7.3.1). Some old scanners wrote gauss: 15000 went into the sidecar as a 15000 T magnet.
Now 15000 G is 1.5 T (1 T = 10000 G, by hand) and said in the manifest; a value that is
neither a magnet's tesla nor its gauss is left out, said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.dicom.bids_sidecar import field_strength
from tests.pipeline.dicom.geometry_cases import convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.1172"


@pytest.mark.parametrize(
    ("value", "tesla"),
    [(1.5, 1.5), (3, 3.0), (15000, 1.5), (30000, 3.0), (640, 0.064), (150, None), (0, None),
     (-3, None), (5e6, None)],
)  # fmt: skip
def test_field_strength_is_tesla_or_nothing(value: float, tesla: float | None) -> None:
    found, said = field_strength(value)
    assert found == tesla
    assert bool(said) == (tesla != value)


@pytest.mark.parametrize(
    ("value", "want", "note"),
    [(15000, 1.5, "MagneticFieldStrength (0018,0087) 15000 read as gauss (an old scanner's "
                  "unit): 1.5 T in the sidecar"),
     (150, None, "MagneticFieldStrength (0018,0087) 150 is neither tesla (0 to 30) nor gauss "
                 "(500 to 300000): left out of the sidecar"),
     (3, 3.0, "")],
    ids=["gauss", "neither", "tesla"],
)  # fmt: skip
def test_the_sidecar_holds_tesla_and_the_manifest_says_what_was_done(
    tmp_path: Path, value: float, want: float | None, note: str
) -> None:
    src = save(tmp_path / "src", [plane((0.0, 0.0, 3.0 * z), value=z, series=SERIES,
                                        MagneticFieldStrength=value,
                                        Modality="MR") for z in range(2)])  # fmt: skip
    rows, errors, code = convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors
    (row,) = rows
    nifti = tmp_path / "out" / row["output"]
    found = json.loads(nifti.with_name(nifti.name.removesuffix(".nii.gz") + ".json").read_text())
    assert found.get("MagneticFieldStrength") == want
    assert (note in row["problems"].split("; ")) if note else "Magnetic" not in row["problems"]
