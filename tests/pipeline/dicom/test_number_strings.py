"""IS and DS values outside PS3.5 6.2: a note naming the attribute and the number read.

pydicom warned ``Invalid value for VR IS: '3.5'`` and ``Value "3.5" is not valid for elements
with a VR of IS``: two lines, neither naming the attribute. The numbers expected here are the
values written, read by hand.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.uid import CTImageStorage

from pipeline.dicom.files import read_dataset
from pipeline.dicom.header import Instance, read_header
from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main


def _raw(ds: object, tag: int, vr: str, text: str) -> None:
    data = text.encode() + b" " * (len(text) % 2)
    ds[tag] = RawDataElement(Tag(tag), vr, len(data), data, 0, False, True)  # type: ignore[index]


def _folder(tmp_path: Path) -> Path:
    ds = image_dataset(CTImageStorage, "CT", 2, 2, signed=True)
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [1, 1], 1, -1024
    ds.PixelData = np.array([0, 1, 2, 3], "<i2").tobytes()
    _raw(ds, 0x00200013, "IS", "3.5")  # InstanceNumber: no integer
    _raw(ds, 0x00180050, "DS", "0.488281250000000001")  # SliceThickness: 20 characters
    _raw(ds, 0x00101030, "DS", "70.00000000000000001")  # PatientWeight: value kept out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom checks the values it writes
        return write_folder(tmp_path / "src", a=ds)


EXPECTED = [
    "InstanceNumber (0020,0013) is not a valid IS (PS3.5 6.2 wants an integer): '3.5' read as 3.5",
    "SliceThickness (0018,0050) is not a valid DS (PS3.5 6.2 wants at most 16 characters, not 20): "
    "'0.488281250000000001' read as 0.48828125",
    "PatientWeight (0010,1030) is not a valid DS (PS3.5 6.2 wants at most 16 characters, not 20): "
    "a value (not shown) read as 70",
]


def test_header_and_dataset_name_the_attribute(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        header = read_header(src / "a.dcm", src)
        ds = read_dataset(src / "a.dcm", "a.dcm", pixels=True)
        number = ds.InstanceNumber  # converted quietly once the note is made
    assert [str(w.message) for w in caught] == []  # pydicom's words are replaced, not added
    assert isinstance(header, Instance)
    assert sorted(n for n in header.notes if "valid" in n) == sorted(EXPECTED)
    assert sorted(ds.radpipe_notes) == sorted(EXPECTED)
    assert number == 3.5


def test_convert_and_inspect_say_the_same(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", "npy", "--quiet"]) == 0
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    said = set(row["problems"].split("; "))
    assert set(EXPECTED) <= said
    assert not any("Invalid value" in p or "not valid for elements" in p for p in said)
    index = index_folder(src)
    inspected = {p for s in index.series for i in s.instances for p in i.notes}
    assert set(EXPECTED) <= inspected
    image = np.load(tmp_path / "out" / row["output"])
    assert image.tolist() == [[-1024, -1023], [-1022, -1021]]  # stored + intercept
