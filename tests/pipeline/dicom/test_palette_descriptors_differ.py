"""Palette Descriptors that differ between red, green and blue.

Every table was read with the Red Descriptor's count: a blue table of 128 16-bit entries (256
bytes) under a Red count of 256 was taken for 256 packed 8-bit entries (index 200 read byte
200 of it, 16); a Red count of 128 cut green and blue to 128 entries, unsaid (pydicom's
``apply_color_lut`` refuses both: "LUT data must be the same length"). Each table is now read
with its own count, said; Descriptors that differ in the first index mapped (which one index
cannot follow) are refused. Entry i of every table is 100 i, so indices 0, 1, 100, 200 are
0, 100, 10000, 20000, or the last entry of a 128-entry table, 12700.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main


def _palette(*descriptors: list[int]) -> Dataset:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 1, 4, bits=8, photometric="PALETTE COLOR")
    for colour, descriptor in zip(("Red", "Green", "Blue"), descriptors, strict=True):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", descriptor)
        entries = (np.arange(descriptor[0]) * 100).astype("<u2").tobytes()
        setattr(ds, f"{colour}PaletteColorLookupTableData", entries)
    ds.PixelData = bytes([0, 1, 100, 200])
    return ds


def test_each_table_is_read_with_its_own_count(tmp_path: Path) -> None:
    src = write_folder(tmp_path / "src", blue=_palette([256, 0, 16], [256, 0, 16], [128, 0, 16]),
                       red=_palette([128, 0, 16], [256, 0, 16], [256, 0, 16]),
                       first=_palette([256, 0, 16], [256, 0, 16], [256, 10, 16]))  # fmt: skip
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 1
    with (out / "manifest.csv").open() as fh:
        rows = {row["source"]: row for row in csv.DictReader(fh)}
    got = {name: np.load(out / row["output"])[0].tolist() for name, row in rows.items()}
    assert got == {
        "blue.dcm": [[0, 0, 0], [100, 100, 100], [10000] * 3, [20000, 20000, 12700]],
        "red.dcm": [[0, 0, 0], [100, 100, 100], [10000] * 3, [12700, 20000, 20000]],
    }
    said = ("palette tables of different lengths: Red, Green and "
            "BluePaletteColorLookupTableDescriptor (0028,1101-1103) give {} entries, each table "
            "read with its own count (an index past a shorter table takes its last "
            "entry)")  # fmt: skip
    notes = {
        "blue.dcm": said.format("256, 256 and 128"),
        "red.dcm": said.format("128, 256 and 256"),
    }
    assert {name: row["problems"] for name, row in rows.items()} == notes
    with (out / "errors.csv").open() as fh:
        errors = {row["source"]: row["reason"] for row in csv.DictReader(fh)}
    refused = ("Red, Green and BluePaletteColorLookupTableDescriptor (0028,1101-1103) differ in "
               "the first index mapped or the bits (256\\0\\16, 256\\0\\16, 256\\10\\16): one "
               "index goes through the three tables, so its colour is unknown.")  # fmt: skip
    assert errors == {"first.dcm": refused}
    inspected = {p.where: p.reason for p in index_folder(src).all_problems()}
    assert inspected == {"first.dcm": refused, **{k: f"note: {v}" for k, v in notes.items()}}
