"""The sign of a VOI LUT's first value mapped follows the modality values (PS3.3 C.11.2.1.1).

Its VR is SS when the rescale can give negative values (a CT in HU), US after a Modality LUT
Sequence, else PixelRepresentation's. An Implicit VR file does not say which, and a reader
that takes PixelRepresentation's (pydicom does) reads a CT's -1024 as 64512.
Expected values are worked out by hand from the tables built here.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.dicom import read_instance
from pipeline.dicom.read import render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset

ROOT = Path(__file__).parents[3]


def _lut_item(first: int, vr: str, entries: list[int], bits: int) -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, vr, [len(entries), first, bits])  # LUTDescriptor
    item.add_new(0x00283006, "US", entries)  # LUTData
    return item


def _ct(syntax: str) -> Dataset:
    """Unsigned 12-bit CT, intercept -1024: stored 0, 1024, 1280, 2047 are HU -1024, 0, 256,
    1023. Its VOI LUT maps HU -1024 .. 1023 (first value mapped -1024, SS) to entry
    ``index // 8`` of 8 bits: 0, 128, 160, 255."""
    ds = image_dataset(CTImageStorage, "CT", 1, 4, stored=12, syntax=syntax)
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.PixelData = np.array([0, 1024, 1280, 2047], "<u2").tobytes()
    ds.VOILUTSequence = Sequence([_lut_item(-1024, "SS", [v // 8 for v in range(2048)], 8)])
    return ds


@pytest.mark.parametrize("syntax", [ImplicitVRLittleEndian, ExplicitVRLittleEndian])
def test_ct_voi_lut_starting_below_zero_maps_hu(tmp_path: Path, syntax: str) -> None:
    # Implicit VR: the first value mapped was read as 64512, above every HU, so every pixel
    # took entry 0: a black PNG, said nowhere
    src = tmp_path / "src"
    src.mkdir()
    _ct(syntax).save_as(src / "ct.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = csv.DictReader((out / "manifest.csv").open())
    assert row["window"] == "header"
    assert np.asarray(Image.open(out / row["output"])).ravel().tolist() == [0, 128, 160, 255]


def test_voi_lut_after_a_modality_lut_starts_unsigned(tmp_path: Path) -> None:
    # signed stored values -2 .. 1 through a Modality LUT (first value mapped -2) to 40000,
    # 40001, 40002, 40003: unsigned (C.11.1.1.1). The VOI LUT maps from 40000 (US); Implicit
    # VR under PixelRepresentation 1 read it as the SS -25536, so every value was past the
    # table's end: all white. By hand: entries 0, 100, 200, 255 of 8 bits
    ds = image_dataset(CTImageStorage, "OT", 1, 4, signed=True, syntax=ImplicitVRLittleEndian)
    ds.PixelData = np.array([-2, -1, 0, 1], "<i2").tobytes()
    ds.ModalityLUTSequence = Sequence([_lut_item(-2, "SS", [40000, 40001, 40002, 40003], 16)])
    ds.VOILUTSequence = Sequence([_lut_item(40000, "US", [0, 100, 200, 255], 8)])
    ds.save_as(tmp_path / "m.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "m.dcm")
    assert image.voi_lut is not None and image.voi_lut[0] == 40000
    got, name = render(image, 0, parse_window("header"), "uint8")
    assert name == "header"
    assert got.ravel().tolist() == [0, 100, 200, 255]


def test_a_rescale_that_keeps_values_at_zero_or_above_leaves_the_lut_unsigned(
    tmp_path: Path,
) -> None:
    # unsigned 16-bit stored values with RescaleSlope 1 and RescaleIntercept 0 written out:
    # the smallest modality value is 0, not below it, so the VOI LUT's first value mapped is
    # the US 40000 (read as the SS -25536, every value was past the table's end: all white).
    # By hand: stored 40000 .. 40003 -> entries 0, 100, 200, 255 of 8 bits
    ds = image_dataset(CTImageStorage, "OT", 1, 4, syntax=ImplicitVRLittleEndian)
    ds.RescaleIntercept, ds.RescaleSlope = 0, 1
    ds.PixelData = np.array([40000, 40001, 40002, 40003], "<u2").tobytes()
    ds.VOILUTSequence = Sequence([_lut_item(40000, "US", [0, 100, 200, 255], 8)])
    ds.save_as(tmp_path / "u.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "u.dcm")
    assert image.voi_lut is not None and image.voi_lut[0] == 40000
    got, name = render(image, 0, parse_window("header"), "uint8")
    assert name == "header" and got.ravel().tolist() == [0, 100, 200, 255]
