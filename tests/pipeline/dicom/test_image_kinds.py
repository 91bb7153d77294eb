"""Derived images (ImageType DERIVED\\SECONDARY: reformats, subtractions) that share the
SeriesInstanceUID of the acquired slices are kept out of the acquired volume (dcm2niix's
"ignore derived" and its ImageType split; dwv #748, Slicer #1007: mixed series stacked).

Expected by construction: five acquired slices at z = 0, 2, ..., 8 mm holding 100 * (k + 1),
one derived image at z = 4 mm holding 900 (co-located) or at z = 3 mm (between two slices).
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.geometry_cases import plane, save
from workflows.cli import main

ORIGINAL = ["ORIGINAL", "PRIMARY", "AXIAL"]
DERIVED = ["DERIVED", "SECONDARY", "MPR"]


def _series(derived_z: float) -> list:  # type: ignore[type-arg]
    series = "1.2.826.0.1.3680043.8.498.77"
    slices = [plane((0.0, 0.0, 2.0 * k), value=100 * (k + 1), series=series, ImageType=ORIGINAL,
                    InstanceNumber=k + 1) for k in range(5)]  # fmt: skip
    # the derived image comes first in InstanceNumber, so acquisition order cannot save it
    derived = plane((0.0, 0.0, derived_z), value=900, series=series, ImageType=DERIVED,
                    InstanceNumber=0)  # fmt: skip
    return [*slices, derived]


def _convert(tmp_path: Path, slices: list) -> tuple[Path, list[dict[str, str]]]:  # type: ignore[type-arg]
    """``radpipe convert --format nifti`` of ``slices``: the output folder and manifest rows."""
    src = save(tmp_path / "src", slices)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        return out, list(csv.DictReader(f))


@pytest.mark.parametrize("derived_z", [4.0, 3.0], ids=["co-located", "between"])
def test_a_derived_image_is_not_stacked_with_the_acquired_slices(
    tmp_path: Path, derived_z: float
) -> None:
    out, rows = _convert(tmp_path, _series(derived_z))
    assert len(rows) == 2
    acquired = nib.load(out / rows[0]["output"])
    values = np.asarray(acquired.dataobj)[0, 0, :].tolist()
    assert values == [100, 200, 300, 400, 500]  # every acquired slice, nothing interpolated
    assert acquired.header.get_zooms()[2] == pytest.approx(2.0)
    derived = np.asarray(nib.load(out / rows[1]["output"]).dataobj)
    assert derived.shape[2] == 1 and derived[0, 0, 0] == 900
    for row in rows:
        assert "split: 2 image types in one series" in row["problems"]
        assert "ORIGINAL\\PRIMARY, DERIVED\\SECONDARY" in row["problems"]
        assert "resampled" not in row["problems"]


def test_one_image_type_is_one_volume(tmp_path: Path) -> None:
    series = "1.2.826.0.1.3680043.8.498.78"
    slices = [plane((0.0, 0.0, 2.0 * k), value=10 * k, series=series, ImageType=DERIVED)
              for k in range(4)]  # fmt: skip
    _out, rows = _convert(tmp_path, slices)
    assert len(rows) == 1 and rows[0]["problems"] == ""


def test_an_image_without_image_type_stays_with_the_acquired_slices(tmp_path: Path) -> None:
    series = "1.2.826.0.1.3680043.8.498.81"
    slices = [plane((0.0, 0.0, 2.0 * k), value=10 * k, series=series, ImageType=ORIGINAL)
              for k in range(4)]  # fmt: skip
    del slices[2].ImageType  # Type 1, but removed by some editing tools
    out, rows = _convert(tmp_path, slices)
    assert len(rows) == 1 and rows[0]["problems"] == ""
    assert np.asarray(nib.load(out / rows[0]["output"]).dataobj)[0, 0, :].tolist() == [
        0, 10, 20, 30
    ]  # fmt: skip
