"""An ultrasound image whose regions measure other things than distance (Weasis #227,
cornerstoneTools PR #1466, cornerstone3D PR #927).

A B-mode region calibrated in cm beside an M-mode trace (x in seconds, y in cm) or a Doppler
spectrum (x in seconds, y in cm/s): the B-mode region's spacing was written for the whole
image without a word, so the trace's seconds passed for millimetres. Now the spacing stays
(it is right inside the B-mode region) and a note says which other regions there are.

Expected values by hand: a region of 0.01 cm (x) by 0.02 cm (y) per pixel = 0.2 mm between
rows, 0.1 mm between columns (PS3.3 C.8.5.5.1.15: units 3 = cm, 4 = seconds, 7 = cm/sec).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset, item
from workflows.cli import main

US = "1.2.840.10008.5.1.4.1.1.6.1"
CM, SECONDS, CM_PER_S = 3, 4, 7


def _region(top: int, bottom: int, x_units: int, y_units: int, dx: float, dy: float) -> Dataset:
    return item(RegionSpatialFormat=1 if (x_units, y_units) == (CM, CM) else 2,
                RegionDataType=1 if (x_units, y_units) == (CM, CM) else 3, RegionFlags=0,
                RegionLocationMinX0=0, RegionLocationMaxX1=5, RegionLocationMinY0=top,
                RegionLocationMaxY1=bottom, PhysicalUnitsXDirection=x_units,
                PhysicalUnitsYDirection=y_units, PhysicalDeltaX=dx, PhysicalDeltaY=dy)  # fmt: skip


B_MODE = _region(0, 3, CM, CM, 0.01, 0.02)
M_MODE = _region(4, 5, SECONDS, CM, 0.004, 0.02)
DOPPLER = _region(6, 7, SECONDS, CM_PER_S, 0.004, 1.5)
BAR = _region(6, 7, 0, 0, 0.0, 0.0)  # a colour bar: no physical units


def _us(regions: list[Dataset]) -> Dataset:
    ds = image_dataset(US, "US", 8, 6, bits=8)
    ds.SequenceOfUltrasoundRegions = regions
    ds.PixelData = np.arange(48, dtype=np.uint8).tobytes()
    return ds


@pytest.mark.parametrize(
    ("regions", "said"),
    [
        ([B_MODE, M_MODE], "1 other region measures something else (x in seconds, y in cm:"),
        ([M_MODE, B_MODE, DOPPLER], "2 other regions measure something else (x in seconds, "
         "y in cm and x in seconds, y in cm/sec:"),
    ],
    ids=["m-mode", "m-mode-and-doppler"],
)  # fmt: skip
def test_spacing_of_the_b_mode_region_is_said_to_hold_there_only(
    tmp_path: Path, regions: list[Dataset], said: str
) -> None:
    _us(regions).save_as(tmp_path / "a.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "a.dcm", "a.dcm")
    assert image.frames[0].pixel_spacing == pytest.approx((0.2, 0.1))
    [note] = image.problems
    assert note.startswith("spacing of part of the image only: 0.2x0.1 mm holds inside")
    assert said in note
    assert "; " not in note  # the manifest parts problems at "; ": it would cut this one


def test_regions_without_units_or_only_spatial_ones_say_nothing(tmp_path: Path) -> None:
    for regions in ([B_MODE], [B_MODE, BAR]):
        _us(regions).save_as(tmp_path / "a.dcm", enforce_file_format=True)
        image = read_instance(tmp_path / "a.dcm", "a.dcm")
        assert image.frames[0].pixel_spacing == pytest.approx((0.2, 0.1))
        assert image.problems == ()


def test_convert_writes_the_spacing_and_the_note_in_the_manifest(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _us([B_MODE, DOPPLER]).save_as(src / "us.dcm", enforce_file_format=True)
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["spacing"] == "0.2x0.1"
    assert "y in cm/sec: M-mode or Doppler), their pixels are not millimetres" in row["problems"]
    assert main(["convert", str(src), str(tmp_path / "o2"), "--format", "npy", "--strict",
                 "--quiet"]) == 1  # fmt: skip
