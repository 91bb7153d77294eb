"""PALETTE COLOR lookups that pydicom's ``apply_color_lut`` got wrong, unsaid.

It holds the indices in the entries' type: through a palette of 8-bit entries (packed one
per byte, as PS3.3 C.7.6.3.1.6 stores them) with more than 256 of them, a 12-bit image's
index 300 read entry 44 and 4095 entry 255. It reads 16-bit entries in the machine's byte
order: in an Explicit VR Big Endian file the OW table's 256 read 1. Expected colours here
are the tables indexed by hand (PS3.3 C.7.6.3.1.5: past the table, its last entry).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

SC = "1.2.840.10008.5.1.4.1.1.7"


def _convert(tmp_path: Path, ds: object, fmt: str) -> np.ndarray:
    src = write_folder(tmp_path / "src", x=ds)  # type: ignore[arg-type]
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format=fmt), progress=False)
    assert result.failures == []
    (out,) = sorted((tmp_path / "out").rglob(f"*.{'png' if fmt == 'png' else 'npy'}"))
    return np.asarray(Image.open(out)) if fmt == "png" else np.load(out)


def test_indices_past_256_through_8_bit_entries_take_their_own_entry(tmp_path: Path) -> None:
    """12-bit indices, 4096 entries of 8 bits: entry i is i // 16 (red), 255 - i // 16
    (green), 7 (blue)."""
    ds = image_dataset(SC, "OT", 2, 3, bits=16, stored=12, photometric="PALETTE COLOR")
    ramp = np.arange(4096) // 16
    tables = {"Red": ramp, "Green": 255 - ramp, "Blue": np.full(4096, 7)}
    for colour, table in tables.items():
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4096, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", table.astype(np.uint8).tobytes())
    index = np.array([[0, 255, 256], [300, 2000, 4095]], dtype="<u2")
    ds.PixelData = index.tobytes()
    got = _convert(tmp_path, ds, "png")
    expected = [[[0, 255, 7], [15, 240, 7], [16, 239, 7]],  # 300 // 16 = 18, 2000 // 16 = 125
                [[18, 237, 7], [125, 130, 7], [255, 0, 7]]]  # fmt: skip
    assert got.tolist() == expected  # was [[0, 255, 7], [15, 240, 7], [0, 255, 7]], ...


def _big_endian_palette(syntax: str) -> object:
    ds = image_dataset(SC, "OT", 1, 4, bits=8, photometric="PALETTE COLOR", syntax=syntax)
    order = ">u2" if syntax == ExplicitVRBigEndian else "<u2"
    for colour, table in {"Red": [256, 1256, 2256, 65535], "Green": [0, 1, 2, 3],
                          "Blue": [4000, 3000, 2000, 1000]}.items():  # fmt: skip
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(table, order).tobytes())
    ds.PixelData = bytes([3, 2, 1, 0])
    return ds


def test_16_bit_entries_of_a_big_endian_file_are_read_in_its_byte_order(tmp_path: Path) -> None:
    got = _convert(tmp_path, _big_endian_palette(ExplicitVRBigEndian), "npy")
    expected = [[[65535, 3, 1000], [2256, 2, 2000], [1256, 1, 3000], [256, 0, 4000]]]
    assert got.tolist() == expected  # was [[[65535, 768, 59395], ...]]: bytes swapped


def test_the_same_palette_little_endian_reads_the_same(tmp_path: Path) -> None:
    got = _convert(tmp_path, _big_endian_palette(ExplicitVRLittleEndian), "npy")
    assert got.tolist() == [[[65535, 3, 1000], [2256, 2, 2000], [1256, 1, 3000], [256, 0, 4000]]]
