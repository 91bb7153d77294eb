"""Segmented palette tables (PS3.3 C.7.9.2) of another length than their Descriptor's count.

A Segmented Palette Color LUT expanding to fewer entries than the Descriptor says (a segment
lost) gave the indices past it its last colour, unsaid (pydicom's ``apply_color_lut`` fails on
it); one expanding to more was used whole, so index 200 of a 4-entry palette took entry 200
where PS3.3 C.7.6.3.1.5 gives it the last of the 4 (as pydicom and plain LUT Data do). The
segments: discrete 0, 1000, 2000, then linear to 27300 over 253 entries, so entry 3 + k is
2000 + 100 (k + 1), by hand: entry 200 is 21800, entry 3 is 2100.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main


def _palette(count: int, linear: int) -> Dataset:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 1, 4, bits=8, photometric="PALETTE COLOR")
    segments = np.array([0, 3, 0, 1000, 2000, 1, linear, 2000 + 100 * linear], "<u2").tobytes()
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [count, 0, 16])
        setattr(ds, f"Segmented{colour}PaletteColorLookupTableData", segments)
    ds.PixelData = bytes([0, 1, 2, 200])
    return ds


def test_segmented_tables_hold_the_descriptors_count(tmp_path: Path) -> None:
    src = write_folder(tmp_path / "src", exact=_palette(256, 253), long=_palette(4, 253),
                       short=_palette(256, 96))  # fmt: skip
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 1
    with (out / "manifest.csv").open() as fh:
        rows = {row["source"]: row for row in csv.DictReader(fh)}
    red = {name: np.load(out / rows[name]["output"])[0, :, 0].tolist() for name in rows}
    assert red == {"exact.dcm": [0, 1000, 2000, 21800], "long.dcm": [0, 1000, 2000, 2100]}
    with (out / "errors.csv").open() as fh:
        errors = {row["source"]: row["reason"] for row in csv.DictReader(fh)}
    reason = (
        "SegmentedRedPaletteColorLookupTableData (0028,1221) expands to 99 entries but "
        "its Descriptor says 256: indices past the table would take its last colour."
    )
    assert errors == {"short.dcm": reason}
    assert {p.where: p.reason for p in index_folder(src).all_problems()} == {"short.dcm": reason}
