"""PALETTE COLOR indices with bits set above BitsStored: masked, as grey values are, and said.

PS3.5 8.1.1: bits above HighBit are undefined, so pydicom and dcmtk mask them; grey values
that masking changes were noted (cornerstone3D #781, dcm2niix #343), palette indices were not:
index 300 of a 512-entry palette under BitsStored 8 took entry 44's colour, unsaid (the header
understating its indices, or junk above them). The colours: entry i is 100 i, so 0, 1, 44 and
300 masked to 44 are 0, 100, 4400, 4400, as pydicom's ``apply_color_lut`` gives them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main


def _palette(syntax: str) -> Dataset:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 1, 4, bits=16, stored=8,
                       photometric="PALETTE COLOR")  # fmt: skip
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [512, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData",
                (np.arange(512) * 100).astype("<u2").tobytes())  # fmt: skip
    indices = np.array([[0, 1, 44, 300]], "<u2")
    ds.PixelData = indices.tobytes()
    if syntax == RLELossless:  # pydicom's encoder refuses 300 under 8 bits: encoded as 16
        ds.BitsStored, ds.HighBit = 16, 15
        ds.compress(RLELossless, indices)
        ds.BitsStored, ds.HighBit = 8, 7
    return ds


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, RLELossless], ids=["native", "rle"])
def test_masked_palette_indices_are_said(tmp_path: Path, syntax: str) -> None:
    src = write_folder(tmp_path / "src", pal=_palette(syntax))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    got = np.load(out / row["output"])
    assert got[0, :, 0].tolist() == [0, 100, 4400, 4400]
    assert row["problems"] == (
        "stored values use bits above BitsStored (0028,0101) 8: 1 of 4 values have bits 8-15 "
        "set (read whole: 300), so bits 8-15 were cleared (masked to 8 bits), as PS3.5 8.1.1 "
        "has it (bits above HighBit are undefined) and as pydicom and dcmtk read them (300 read "
        "as 44): right if those bits are junk, wrong if BitsStored understates the data"
    )
