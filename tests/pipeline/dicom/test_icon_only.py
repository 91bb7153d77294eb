"""A file whose only pixels are its icon (a thumbnail in IconImageSequence) is not called
truncated: the reason said "no pixel data (truncated file?)", a guess that sends the user
looking for a broken transfer when the sender left the image out (realcases25 leftover)."""

from __future__ import annotations

import csv
from pathlib import Path

from pydicom.dataset import Dataset

from tests.pipeline.dicom.builders import header_dataset
from workflows.cli import main

_CT = "1.2.840.10008.5.1.4.1.1.2"


def _icon() -> Dataset:
    icon = Dataset()
    icon.Rows = icon.Columns = 4
    icon.SamplesPerPixel, icon.PhotometricInterpretation = 1, "MONOCHROME2"
    icon.BitsAllocated = icon.BitsStored = 8
    icon.HighBit, icon.PixelRepresentation = 7, 0
    icon.PixelData = bytes(16)
    return icon


def _reason(tmp_path: Path, with_icon: bool) -> tuple[str, str]:
    src = tmp_path / "src"
    src.mkdir()
    ds = header_dataset(_CT, "CT")
    if with_icon:
        ds.IconImageSequence = [_icon()]
    ds.save_as(src / "a.dcm", enforce_file_format=True)
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", "npy", "--quiet"]) == 1
    with (tmp_path / "out" / "errors.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    return row["reason"], row["kind"]


def test_an_icon_only_file_is_said_to_hold_only_its_icon(tmp_path: Path) -> None:
    assert _reason(tmp_path, with_icon=True) == (
        "no pixel data: the file holds only an icon image (a thumbnail in IconImageSequence "
        "(0088,0200)), not the image's PixelData (7FE0,0010)",
        "error",
    )


def test_a_file_without_any_pixels_is_still_asked_about_truncation(tmp_path: Path) -> None:
    reason, kind = _reason(tmp_path, with_icon=False)
    assert reason.startswith("no pixel data (truncated file?): the data set ends at (0020,000E)")
    assert kind == "error"
