"""A CT scout (ImageType value 3 LOCALIZER) filed in the series of the axial slices.

CT scanners put the localizer (topogram, scout) under the SeriesInstanceUID of the slices it
planned (vtk-dicom #98, Slicer PR #5055, picai_prep PR #39, dwv #748). It is a projection, not
a slice (PS3.3 C.8.2.1.1.1). An axial one between two slices was stacked among them (its
pixels interpolated into a "missing slice" grid); a coronal one made its own volume, but as
``_s00``, the volume a user takes for the series. Now it is its own volume, after the slices.

Expected by construction: four slices at z = 0, 2, 4, 6 mm holding 100 * (k + 1), a scout
holding 900.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.dicom.frames import image_kind
from tests.pipeline.dicom.builders import item
from tests.pipeline.dicom.geometry_cases import CT, plane, save
from workflows.cli import main

AXIAL_TYPE = ["ORIGINAL", "PRIMARY", "AXIAL"]
SCOUT_TYPE = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


def _series(scout_z: float, scout_iop: tuple[float, ...]) -> list[Dataset]:
    series = "1.2.826.0.1.3680043.8.498.2201"
    slices = [plane((0.0, 0.0, 2.0 * k), value=100 * (k + 1), series=series, sop_class=CT,
                    ImageType=AXIAL_TYPE, InstanceNumber=k + 2) for k in range(4)]  # fmt: skip
    # the scout is acquired first: InstanceNumber 1, and its file sorts first
    scout = plane((0.0, 0.0, scout_z), scout_iop, value=900, series=series, sop_class=CT,
                  ImageType=SCOUT_TYPE, InstanceNumber=1)  # fmt: skip
    return [scout, *slices]


def _convert(tmp_path: Path, slices: list[Dataset]) -> tuple[Path, list[dict[str, str]]]:
    src = save(tmp_path / "src", slices)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        return out, list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("scout_z", "scout_iop"),
    [(3.0, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)), (-40.0, CORONAL)],
    ids=["axial-between-slices", "coronal"],
)
def test_a_scout_is_its_own_volume_after_the_slices(
    tmp_path: Path, scout_z: float, scout_iop: tuple[float, ...]
) -> None:
    out, rows = _convert(tmp_path, _series(scout_z, scout_iop))
    assert [row["volume"] for row in rows] == ["0", "1"]
    slices = nib.load(out / rows[0]["output"])
    assert np.asarray(slices.dataobj)[0, 0, :].tolist() == [100, 200, 300, 400]
    assert slices.header.get_zooms()[2] == pytest.approx(2.0)
    scout = np.asarray(nib.load(out / rows[1]["output"]).dataobj)
    assert scout.size == 64 and set(scout.ravel().tolist()) == {900}
    for row in rows:
        assert (
            "ORIGINAL\\PRIMARY, ORIGINAL\\PRIMARY\\LOCALIZER: a LOCALIZER is a scout"
            in (row["problems"])
        )
        assert "resampled" not in row["problems"]


def test_inspect_says_the_scout_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = save(tmp_path / "src", _series(3.0, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)))
    assert main(["inspect", str(src), "--json"]) == 0  # a split convert makes: said, exit 0
    (series,) = json.loads(capsys.readouterr().out)["patients"][0]["studies"][0]["series"]
    assert any("a LOCALIZER is a scout" in p for p in series["problems"])


def test_a_series_of_scouts_alone_is_not_split(tmp_path: Path) -> None:
    series = "1.2.826.0.1.3680043.8.498.2202"
    scouts = [plane((0.0, 0.0, 2.0 * k), value=10 * k, series=series, sop_class=CT,
                    ImageType=SCOUT_TYPE) for k in range(3)]  # fmt: skip
    _out, rows = _convert(tmp_path, scouts)
    assert len(rows) == 1 and rows[0]["problems"] == ""


def test_an_enhanced_frame_type_localizer_is_a_scout() -> None:
    ds = Dataset()
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    frame = Dataset()
    frame.CTImageFrameTypeSequence = Sequence([Dataset()])
    frame.CTImageFrameTypeSequence[0].FrameType = ["ORIGINAL", "PRIMARY", "LOCALIZER", "NONE"]
    ds.PerFrameFunctionalGroupsSequence = Sequence([frame])
    assert image_kind(ds, 0) == "ORIGINAL\\PRIMARY\\LOCALIZER"
    assert image_kind(item(ImageType=["DERIVED", "SECONDARY", "AXIAL"])) == "DERIVED\\SECONDARY"
