"""PALETTE COLOR images whose lookup tables cannot map their indices (OHIF #1350).

A palette referenced only by PaletteColorLookupTableUID, or whose tables were left out with
other bulk data, passed ``inspect`` (exit 0) and failed at ``convert`` in pydicom's words
("No suitable Palette Color Lookup Table Module found"); a table shorter than its Descriptor
gave the indices past its end its last entry, unsaid. Both commands now refuse such a file
alike, naming the elements; complete palettes (pydicom's bundled ones) still read.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from pipeline.dicom import read_instance
from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

SC = "1.2.840.10008.5.1.4.1.1.7"


def _palette(green: bytes | None = bytes([0, 10, 20, 30])) -> pydicom.Dataset:
    ds = image_dataset(SC, "OT", 2, 2, bits=8, photometric="PALETTE COLOR")
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes([0, 10, 20, 30]))
    if green is None:
        del ds.GreenPaletteColorLookupTableData
    else:
        ds.GreenPaletteColorLookupTableData = green
    ds.PixelData = bytes([0, 1, 2, 3])
    return ds


@pytest.mark.parametrize(
    ("green", "reason"),
    [
        (None, "PhotometricInterpretation (0028,0004) is PALETTE COLOR but "
               "GreenPaletteColorLookupTableData (0028,1202) is missing (a palette referenced "
               "only by PaletteColorLookupTableUID, or left out with bulk data): the indices "
               "cannot be turned into colours."),
        (bytes([0, 10]), "GreenPaletteColorLookupTableData holds 2 entries but its Descriptor "
                         "says 4: indices past the table would take its last colour."),
    ],
    ids=["no-table", "short-table"],
)  # fmt: skip
def test_unusable_palette_is_refused_by_inspect_and_convert(
    tmp_path: Path, green: bytes | None, reason: str
) -> None:
    src = write_folder(tmp_path / "src", x=_palette(green))
    convert_folder(src, tmp_path / "out", ConvertOptions(format="png"), progress=False)
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        converted = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    assert converted == {"x.dcm": reason}
    assert {p.where: p.reason for p in index_folder(src).problems} == converted


def test_complete_palettes_still_read(tmp_path: Path) -> None:
    src = write_folder(tmp_path / "src", x=_palette())
    rgb = read_instance(src / "x.dcm", "x.dcm").stored[0]
    np.testing.assert_array_equal(rgb[..., 1].ravel(), [0, 10, 20, 30])  # index i -> 10 i
    path = get_testdata_file("examples_palette.dcm")  # pydicom's bundled palette image
    ds = pydicom.dcmread(path)
    want = pydicom.pixels.apply_color_lut(ds.pixel_array, ds)
    np.testing.assert_array_equal(read_instance(path, "p.dcm").stored.reshape(want.shape), want)
