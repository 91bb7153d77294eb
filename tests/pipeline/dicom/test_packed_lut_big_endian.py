"""8-bit LUT entries packed one per byte in OW LUT Data of an Explicit VR Big Endian file.

OW values are 16-bit words in the data set's byte order (PS3.5 7.3), so a big-endian writer
stores entries 0, 1, 2, 3 as the bytes of entry 1, 0, 3, 2. dcmtk and GDCM hold OW values as
native words and read the entries in order; radpipe (as pydicom) read them byte by byte, so
in a VOI LUT or a palette every even entry traded places with the next: a stored 0 showed
entry 1's grey or colour, unsaid. Expected values by hand: the table written, indexed by the
stored values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.datadict import tag_for_keyword
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from tests.pipeline.dicom.builders import convert_one, image_dataset, item, write_folder

CR, US = "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.6.1"
STORED = np.array([0, 1, 2, 3], np.uint8)
TABLE = np.array([200, 100, 50, 0], np.uint8)  # 8-bit entries, 4 of them


def _ow(entries: np.ndarray, syntax: str) -> bytes:
    """The entries packed one per byte, as OW in ``syntax``'s byte order (PS3.5 7.3)."""
    packed = entries.tobytes()
    if syntax == ExplicitVRBigEndian:  # each 16-bit word written high byte first
        return np.frombuffer(packed, "<u2").astype(">u2").tobytes()
    return packed


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ExplicitVRBigEndian])
def test_a_packed_voi_lut_is_read_in_table_order(tmp_path: Path, syntax: str) -> None:
    ds = image_dataset(CR, "CR", 1, 4, bits=8, syntax=syntax)
    ds.PixelData = STORED.tobytes()
    lut = item(LUTDescriptor=[4, 0, 8])
    lut.add_new(0x00283006, "OW", _ow(TABLE, syntax))
    ds.VOILUTSequence = Sequence([lut])
    src = write_folder(tmp_path / "src", cr=ds)
    _, grey = convert_one(src, tmp_path / "out", "--format", "png")
    np.testing.assert_array_equal(grey.ravel(), TABLE[STORED])  # 8-bit entries: 0..255


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ExplicitVRBigEndian])
def test_a_packed_palette_is_read_in_table_order(tmp_path: Path, syntax: str) -> None:
    ds = image_dataset(US, "US", 1, 4, bits=8, photometric="PALETTE COLOR", syntax=syntax)
    ds.PixelData = STORED.tobytes()
    tables = {"Red": TABLE, "Green": 255 - TABLE, "Blue": np.array([1, 2, 3, 4], np.uint8)}
    for colour, entries in tables.items():
        ds.add_new(tag_for_keyword(f"{colour}PaletteColorLookupTableDescriptor"), "US", [4, 0, 8])
        ds.add_new(tag_for_keyword(f"{colour}PaletteColorLookupTableData"), "OW",
                   _ow(entries, syntax))  # fmt: skip
    src = write_folder(tmp_path / "src", us=ds)
    _, rgb = convert_one(src, tmp_path / "out", "--format", "png")
    expected = np.stack([tables[c][STORED] for c in ("Red", "Green", "Blue")], axis=-1)
    np.testing.assert_array_equal(rgb.reshape(4, 3), expected)
