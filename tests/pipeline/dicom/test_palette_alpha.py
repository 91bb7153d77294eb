"""A PALETTE COLOR image with an Alpha Palette Color Lookup Table (PS3.3 C.7.9).

The alpha table gives each index an opacity for blending over another image. It was taken
as a fourth colour channel (pydicom's ``apply_color_lut`` returns RGBA): PNG refused the file
("PNG needs ... (H, W, 3) uint8; got (2, 4, 4)") and NPY held 4 "colour" channels. Now the
palette's RGB is written, the alpha said. Expected colours: pydicom's ``apply_color_lut``,
its first three channels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import convert_one, image_dataset
from workflows.cli import main

INDICES = np.array([[0, 1, 100, 255], [10, 20, 30, 40]], np.uint8)


def _palette_file(path: Path, alpha: bool) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 2, 4, bits=8,
                       photometric="PALETTE COLOR")  # fmt: skip
    tables = {"Red": np.arange(256), "Green": 255 - np.arange(256), "Blue": np.full(256, 128)}
    for colour, table in tables.items():
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", table.astype(np.uint8).tobytes())
    if alpha:
        ds.AlphaPaletteColorLookupTableData = np.full(256, 200, np.uint8).tobytes()
    ds.PixelData = INDICES.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def test_the_alpha_table_is_said_and_the_rgb_written(tmp_path: Path) -> None:
    _palette_file(tmp_path / "in" / "p.dcm", alpha=True)
    ds = pydicom.dcmread(tmp_path / "in" / "p.dcm")
    rgba = apply_color_lut(ds.pixel_array, ds)
    assert rgba.shape == (2, 4, 4) and rgba[..., 3].tolist() == [[200] * 4] * 2
    row, png = convert_one(tmp_path / "in", tmp_path / "png")
    assert np.array_equal(png, rgba[..., :3])  # the file was refused
    assert row["shape"] == "2x4x3"
    assert row["problems"] == (
        "AlphaPaletteColorLookupTableData (0028,1204) not applied: its opacities are for "
        "blending the image over another (PS3.3 C.7.9), written as the palette's RGB colours, "
        "fully opaque"
    )
    _, npy = convert_one(tmp_path / "in", tmp_path / "npy", "--format", "npy")
    assert np.array_equal(npy, rgba[..., :3])  # not 4


def test_without_alpha_nothing_is_said(tmp_path: Path) -> None:
    _palette_file(tmp_path / "in" / "p.dcm", alpha=False)
    assert main(["convert", str(tmp_path / "in"), str(tmp_path / "png"), "--quiet"]) == 0
    (row,) = read_manifest(tmp_path / "png" / "manifest.csv")
    assert row["problems"] == ""


def test_palette_depth_notes_keep_to_one_problems_cell_entry(tmp_path: Path) -> None:
    """'; ' joins the entries of a problems cell: a note holding it was counted as two kinds
    in the summary ("... hold larger values 1, read as 16-bit entries 1")."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 2, 4, bits=8,
                       photometric="PALETTE COLOR")  # fmt: skip
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData",
                (np.arange(256) * 257).astype("<u2").tobytes())  # fmt: skip
    ds.PixelData = INDICES.tobytes()
    (tmp_path / "in").mkdir()
    ds.save_as(tmp_path / "in" / "w.dcm", enforce_file_format=True)
    assert main(["convert", str(tmp_path / "in"), str(tmp_path / "out"), "--quiet"]) == 0
    (row,) = read_manifest(tmp_path / "out" / "manifest.csv")
    assert row["problems"] == (
        "palette LUT Descriptor says 8-bit entries but the 16-bit entries hold larger values, "
        "read as 16-bit entries"
    )
