"""Colour reading at its edges: YBR_FULL_422 rows padded to whole pairs at 16 bits and with an
even Columns, the note of 8-bit RGB volumes, and palette tables measured against
their descriptors (PS3.3 C.7.6.3.1.5; by hand)."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from pipeline.dicom.palette import apply_palette, check_palette
from pipeline.dicom.rgb_volume import colour_frame_note
from pipeline.dicom.ybr422 import padded_row_columns
from pipeline.errors import DicomError


def _ybr(rows: int, columns: int, bits: int, length: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.Rows, ds.Columns, ds.BitsAllocated = rows, columns, bits
    ds.PixelData = bytes(length)
    return ds


def test_rows_of_16_bit_pairs_are_padded_rows_too() -> None:
    # 2 rows of 3 columns stored as 2 pairs a row: 2 x 4 x 2 values of 2 bytes
    assert padded_row_columns(_ybr(2, 3, 16, 2 * 4 * 2 * 2)) == 4
    assert padded_row_columns(_ybr(2, 3, 16, 2 * 3 * 2 * 2)) is None  # the standard's length
    assert padded_row_columns(_ybr(2, 3, 8, 2 * 4 * 2)) == 4


def test_an_even_columns_is_never_padded_rows() -> None:
    # 4 columns are whole pairs already; data one pair longer a row is not read as 5 columns
    assert padded_row_columns(_ybr(2, 4, 8, 2 * 5 * 2)) is None


def test_only_samples_of_more_than_8_bits_are_noted_as_scaled() -> None:
    assert colour_frame_note(8) is None
    assert "12 bits scaled to 8 bits" in str(colour_frame_note(12))


def _palette(count: int, bits: int, data: bytes) -> Dataset:
    ds = Dataset()
    ds.PhotometricInterpretation = "PALETTE COLOR"
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [count, 0, bits])
        setattr(ds, f"{colour}PaletteColorLookupTableData", data)
    return ds


@pytest.mark.parametrize(
    ("count", "bits", "data", "held", "said"),
    [
        (4, 16, bytes(4), "2", "4"),  # 16-bit entries take two bytes each
        # a count of 0 means 65536 entries: said as the header has it, with what it means
        (0, 16, bytes(8), "4", "0, which means 65,536 (PS3.3 C.7.6.3.1.5)"),
        (4, 8, bytes(2), "2", "4"),  # 8-bit entries one byte each
    ],
)
def test_a_palette_table_shorter_than_its_descriptor_is_refused(
    count: int, bits: int, data: bytes, held: str, said: str
) -> None:
    with pytest.raises(DicomError) as caught:
        check_palette(_palette(count, bits, data))
    assert caught.value.reason == (
        f"RedPaletteColorLookupTableData holds {held} entries but its Descriptor says {said}: "
        "indices past the table would take its last colour."
    )


def test_palette_tables_of_their_descriptors_length_pass() -> None:
    check_palette(_palette(4, 16, bytes(8)))
    check_palette(_palette(4, 8, bytes(4)))
    check_palette(_palette(4, 8, bytes(8)))  # 8-bit entries in 16-bit words


def _table(first: int, entries: list[int]) -> Dataset:
    ds = Dataset()
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.BitsStored = 8
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [len(entries), first, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData",
                np.asarray(entries, "<u2").tobytes())  # fmt: skip
    return ds


def test_a_16_bit_palette_is_judged_by_the_entries_from_its_first_index() -> None:
    """First index 2: indices 2..5 map entries 10, 20, 30, 300. An image of indices 2 and 3
    uses only 10 and 20, but the table reaches 300: 16-bit entries, kept as they are."""
    notes: list[str] = []
    rgb = apply_palette(_table(2, [10, 20, 30, 300]), np.array([[2, 3]], np.uint8), "p", notes)
    assert rgb.dtype == np.uint16 and rgb[0, :, 0].tolist() == [10, 20] and notes == []


def test_an_all_black_16_bit_palette_stays_16_bit() -> None:
    """Entries all 0 show no depth: nothing to read as 8-bit, nothing noted."""
    notes: list[str] = []
    rgb = apply_palette(_table(0, [0, 0, 0, 0]), np.array([[0, 3]], np.uint8), "p", notes)
    assert rgb.dtype == np.uint16 and notes == []
