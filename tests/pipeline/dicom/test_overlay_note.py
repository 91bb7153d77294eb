"""Overlay planes with Overlay Data (60xx,3000) are not drawn into the pixels, and said.

A viewer draws them over the image (PS3.3 C.9.2); radpipe, like pydicom and dcm2niix, writes
the pixels as stored, which was unsaid. Expected counts come from pydicom's ``overlay_array``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.data import get_testdata_file

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset


def test_a_siemens_graphics_overlay_is_said_with_its_pixels() -> None:
    path = get_testdata_file("examples_overlay.dcm")
    ds = pydicom.dcmread(path)
    drawn = int(ds.overlay_array(0x6000).sum())
    assert drawn == 222
    image = read_instance(path, "examples_overlay.dcm")
    assert np.array_equal(image.stored[0], ds.pixel_array)  # not drawn into the values
    assert (
        "overlay not drawn: (6000,3000) type G 300x484, 222 of 145,200 pixels set: a viewer "
        "draws it over the image (PS3.3 C.9.2), the pixels written as stored, without it"
    ) in image.problems


def test_two_planes_are_each_said_and_an_image_without_says_nothing(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 2, 4, bits=8)
    ds.PixelData = bytes(8)
    ds.save_as(tmp_path / "plain.dcm", enforce_file_format=True)
    assert read_instance(tmp_path / "plain.dcm", "plain.dcm").problems == ()
    for group, bits in ((0x6000, 0b00000001), (0x6002, 0b11110000)):
        ds.add_new((group << 16) | 0x0010, "US", 2)
        ds.add_new((group << 16) | 0x0011, "US", 4)
        ds.add_new((group << 16) | 0x0040, "CS", "R" if group == 0x6002 else "G")
        ds.add_new((group << 16) | 0x0100, "US", 1)
        ds.add_new((group << 16) | 0x0102, "US", 0)
        ds.add_new((group << 16) | 0x3000, "OW", bytes([bits, 0]))
    ds.save_as(tmp_path / "two.dcm", enforce_file_format=True)
    expected = [int(ds.overlay_array(g).sum()) for g in (0x6000, 0x6002)]
    assert expected == [1, 4]
    assert read_instance(tmp_path / "two.dcm", "two.dcm").problems == (
        "overlay not drawn: (6000,3000) type G 2x4, 1 of 8 pixels set and (6002,3000) type R "
        "2x4, 4 of 8 pixels set: a viewer draws them over the image (PS3.3 C.9.2), the pixels "
        "written as stored, without them",
    )
