"""The header checks before decoding, at their edges, and decoding's bit handling.

Byte counts worked out by hand in each test (PS3.5 8.1.1, 8.2, A.4); stored values from the
words written.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import CTImageStorage, JPEGBaseline8Bit, JPEGLSLossless, RLELossless

from pipeline.dicom.decode import check_codestreams, check_pixel_size, decode_stored, fix_bits
from pipeline.dicom.syntaxes import GE_PRIVATE
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset


def _grey(rows: int, cols: int, data: bytes, *, bits: int = 16, **kw: object) -> Dataset:
    ds = image_dataset(CTImageStorage, "CT", rows, cols, bits=bits, **kw)  # type: ignore[arg-type]
    ds.PixelData = data
    return ds


def test_the_pixel_limit_is_the_limit_given() -> None:
    ds = _grey(4, 4, bytes(32))
    assert check_pixel_size(ds, "a.dcm", max_pixels=16) == 16
    with pytest.raises(DicomError, match="= 16 pixels, over the limit of 15"):
        check_pixel_size(ds, "a.dcm", max_pixels=15)


def test_encapsulated_frames_need_one_eight_byte_item_each() -> None:
    # no Basic Offset Table: an empty item (8 bytes) and 3 fragments of 8 + 2 bytes = 38
    data = encapsulate([b"ab", b"cd", b"ef"], has_bot=False)
    assert len(data) == 38
    ds = _grey(1, 1, data, bits=8, syntax=RLELossless)
    ds.NumberOfFrames = 3  # 3 x 8 = 24 bytes of the 38: room enough
    assert check_pixel_size(ds, "a.dcm") == 3
    ds.NumberOfFrames = 5  # 5 x 8 = 40 > 38
    with pytest.raises(DicomError, match="room for at most 4 encapsulated frames"):
        check_pixel_size(ds, "a.dcm")


def test_one_bit_pixels_round_up_to_whole_bytes() -> None:
    ds = _grey(3, 3, b"\x00", bits=1)  # 9 bits need 2 bytes
    with pytest.raises(DicomError, match=r"holds 1 bytes but .* needs 2"):
        check_pixel_size(ds, "a.dcm")
    ds.PixelData = b"\x00\x00"
    assert check_pixel_size(ds, "a.dcm") == 9


def test_one_byte_short_is_truncated() -> None:
    ds = _grey(2, 2, bytes(7))  # 4 x 16 bits = 8 bytes
    with pytest.raises(DicomError, match=r"holds 7 bytes but .* needs 8"):
        check_pixel_size(ds, "a.dcm")


def test_the_pad_byte_of_odd_pixel_data_is_no_excess() -> None:
    notes: list[str] = []
    check_pixel_size(_grey(3, 3, bytes(10), bits=8), "a.dcm", notes=notes)  # 9 + its pad
    assert notes == []
    check_pixel_size(_grey(3, 3, bytes(12), bits=8), "a.dcm", notes=notes)
    assert notes == [
        "PixelData (7FE0,0010) holds 12 bytes, 3 more than the header needs (9): the extra "
        "bytes are ignored"
    ]


def test_the_sign_bit_alone_is_the_most_negative_value() -> None:
    # 12 bits: 0x800 = 2048 is -2048; 2047 is the largest positive value
    got = fix_bits(np.array([2048, 2047, -2048], np.int16), 12, signed=True)
    assert got.tolist() == [-2048, 2047, -2048]


def test_a_wrong_high_bit_over_low_aligned_values_is_not_a_shift() -> None:
    # HighBit 15 and BitsStored 12; 0x1001 has a low bit set: not data in bits 4-15, so it is
    # read from its low 12 bits (1), not shifted down by 4 (256)
    words = np.array([0x1001, 0x0001, 0x0FFF, 0x0010], "<u2")
    ds = _grey(2, 2, words.tobytes(), stored=12)
    ds.HighBit = 15
    notes: list[str] = []
    got = decode_stored(ds, "a.dcm", notes=notes)
    assert got.ravel().tolist() == [1, 1, 4095, 16]
    assert any("values read from the low 12 bits" in n for n in notes)


def test_ge_private_syntax_words_are_big_endian() -> None:
    values = [1, 256, 1000, 4095]
    ds = _grey(2, 2, np.array(values, ">u2").tobytes(), stored=12, syntax=GE_PRIVATE)
    assert decode_stored(ds, "a.dcm").ravel().tolist() == values


def test_values_past_two_to_the_24_are_noted() -> None:
    values = [0, 2**24 + 1, 5, 7]  # 16777217: the first whole number float32 rounds
    ds = _grey(2, 2, np.array(values, "<u4").tobytes(), bits=32)
    notes: list[str] = []
    assert decode_stored(ds, "a.dcm", notes=notes).ravel().tolist() == values
    assert any("stored values reach 16777217, past 2**24" in n for n in notes)


def _jpeg_header(rows: int, cols: int, components: int = 1) -> bytes:
    """SOI, a baseline SOF0 of 8-bit components, and EOI (ITU-T T.81 B.2.2)."""
    parts = b"".join(bytes([c + 1, 0x11, 0]) for c in range(components))
    sof = struct.pack(">BHHB", 8, rows, cols, components) + parts
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


@pytest.mark.parametrize(("rows", "cols"), [(4, 5), (5, 4)], ids=["columns", "rows"])
def test_a_codestream_of_other_columns_or_rows_is_refused(rows: int, cols: int) -> None:
    ds = _grey(4, 4, encapsulate([_jpeg_header(rows, cols)]), bits=8, syntax=JPEGBaseline8Bit)
    with pytest.raises(DicomError, match=rf"the codestream is {cols}x{rows} .* say 4x4"):
        check_codestreams(ds, "a.dcm", notes=[])
    ds.PixelData = encapsulate([_jpeg_header(4, 4)])
    first = check_codestreams(ds, "a.dcm", notes=[])
    assert first is not None and first.rstrip(b"\x00") == _jpeg_header(4, 4)  # its pad byte


def test_a_codestreams_components_count_against_the_pixel_limit() -> None:
    # 4 x 4 pixels of 3 components: 48 samples
    ds = _grey(4, 4, encapsulate([_jpeg_header(4, 4, 3)]), bits=8, syntax=JPEGBaseline8Bit)
    assert check_codestreams(ds, "a.dcm", max_pixels=48, notes=[]) is not None
    with pytest.raises(DicomError, match="claims 4x4x3 pixels, over the limit of 47"):
        check_codestreams(ds, "a.dcm", max_pixels=47, notes=[])


def test_rle_fragments_are_counted_against_number_of_frames() -> None:
    ds = _grey(1, 1, encapsulate([b"ab"], has_bot=False), bits=8, syntax=RLELossless)
    ds.NumberOfFrames = 2  # one fragment, one RLE frame
    with pytest.raises(DicomError, match="holds 1 of 2 frames"):
        check_codestreams(ds, "a.dcm", notes=[])
    ds.PixelData = encapsulate([b"ab", b"cd", b"ef"], has_bot=False)  # three frames
    with pytest.raises(DicomError, match=r"holds 3 frames \(by its fragments.* says 2"):
        check_pixel_size(ds, "a.dcm")


def test_palette_indices_are_read_from_bits_stored() -> None:
    # BitsStored 2: the words 4..7 have bit 2 set, above the stored bits: indices 0..3
    ds = _grey(2, 2, bytes([4, 5, 6, 7]), bits=8, stored=2, photometric="PALETTE COLOR")
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes([0, 10, 20, 30]))
    rgb = decode_stored(ds, "a.dcm")
    assert rgb[0, ..., 0].ravel().tolist() == [0, 10, 20, 30]


def test_palette_indices_of_a_jpeg_ls_stream_are_masked_to_bits_stored() -> None:
    # pydicom masks native data itself; a JPEG-LS stream's samples come as coded (4..7,
    # bit 2 set above BitsStored 2): the indices are still 0..3, not past the table (whole,
    # they would be: kept only where the palette has entries for them), and that is said
    jpeg_ls = pytest.importorskip("jpeg_ls")
    words = (np.arange(64, dtype=np.uint8).reshape(8, 8) % 4) + 4
    data = encapsulate([bytes(jpeg_ls.encode(words))])
    ds = _grey(8, 8, data, bits=8, stored=2, photometric="PALETTE COLOR", syntax=JPEGLSLossless)
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes([0, 10, 20, 30]))
    notes: list[str] = []
    assert decode_stored(ds, "a.dcm", notes=notes)[0, 0, :4, 0].tolist() == [0, 10, 20, 30]
    assert any(
        n.startswith(
            "stored values use bits above BitsStored (0028,0101) 2: 64 of 64 "
            "values have bits 2-7 set (read whole: 4 to 7)"
        )
        for n in notes
    )
