"""A grey image with a Supplemental Palette Color LUT (PS3.3 C.7.6.19; vtk-dicom #237).

The palette's colours are not applied (written as grey values), which was unsaid: the
pixels it covers came out as grey levels no viewer shows. The covered range by hand: the
Red descriptor's first mapped value 3000 and 256 entries give stored values 3000 to 3255.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from pipeline.data.io import read_manifest
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

_NOTE = (
    "Supplemental Palette Color LUT (0028,1101-1103) not applied: written as the grey values "
    "MONOCHROME2 says, where a viewer shows the values it covers (stored values 3000 to 3255) "
    "in its colours (PS3.3 C.7.6.19, PixelPresentation (0008,9205) MIXED)"
)


def _mixed(palette: bool = True) -> Dataset:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 1, 4, stored=12)
    ds.PixelPresentation = "MIXED"
    if palette:
        for tag, colour in ((0x00281201, "Red"), (0x00281202, "Green"), (0x00281203, "Blue")):
            setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 3000, 8])
            ds.add_new(tag, "OW", bytes(range(256)))
    ds.PixelData = np.array([0, 1000, 3000, 3255], "<u2").tobytes()
    return ds


def test_the_palette_is_said_and_the_grey_values_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    _mixed().save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    assert np.asarray(image.stored).ravel().tolist() == [0, 1000, 3000, 3255]
    assert image.photometric == "MONOCHROME2"
    assert _NOTE in image.problems


def test_no_palette_no_note(tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    _mixed(palette=False).save_as(path, enforce_file_format=True)
    assert not [p for p in read_instance(path, "a.dcm").problems if "Palette" in p]


def test_inspect_and_convert_say_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    _mixed().save_as(tmp_path / "src" / "a.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "npy", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert _NOTE in row["problems"]
    capsys.readouterr()
    main(["inspect", str(tmp_path / "src")])
    assert f"a.dcm: note: {_NOTE}" in capsys.readouterr().out


def test_an_enhanced_palette_is_said_by_inspect_and_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Weasis #375: an Enhanced image whose EnhancedPaletteColorLookupTableSequence (0028,140B)
    colours its values (PixelPresentation COLOR, PS3.3 C.7.6.23) was written grey, unsaid."""
    ds = _mixed(palette=False)
    ds.PixelPresentation = "COLOR"
    lut = Dataset()
    lut.DataPathID, lut.RGBLUTTransferFunction = "PRIMARY", "TABLE"
    ds.EnhancedPaletteColorLookupTableSequence = [lut]
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    note = ("Enhanced Palette Color LUT (0028,140B) not applied: written as the grey values "
            "MONOCHROME2 says, where a viewer shows them through its colour palette (PS3.3 "
            "C.7.6.23, PixelPresentation (0008,9205) COLOR)")  # fmt: skip
    image = read_instance(tmp_path / "src" / "e.dcm", "e.dcm")
    assert np.asarray(image.stored).ravel().tolist() == [0, 1000, 3000, 3255]
    assert note in image.problems
    main(["inspect", str(tmp_path / "src")])
    assert f"e.dcm: note: {note}" in capsys.readouterr().out
