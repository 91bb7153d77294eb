"""What a compressed frame's own markers say, read before decoding: edge values.

Marker layouts from ITU-T T.81 B.2.2 (SOF) and T.800 A.5.1 (SIZ); expected values by hand.
"""

from __future__ import annotations

import struct

import numpy as np
from pydicom.dataset import Dataset

from pipeline.dicom.codestream import (
    embedded_overlay,
    frame_size,
    is_jpeg_family,
    planar_note,
    reads_interleaved,
    value_bits,
)

JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_LS = "1.2.840.10008.1.2.4.80"
RLE = "1.2.840.10008.1.2.5"


def test_a_siz_image_area_starts_at_its_offset() -> None:
    # Xsiz 64, Ysiz 40 with the image area at XOsiz 10, YOsiz 8: 54 columns, 32 rows
    siz = bytes.fromhex("ff4fff51002f0000") + struct.pack(">8I", 64, 40, 10, 8, 64, 40, 0, 0)
    assert frame_size(siz + struct.pack(">H", 3) + bytes(9)) == (32, 54, 3)


def test_a_sof_gives_rows_then_columns() -> None:
    sof = struct.pack(">BHHB", 8, 4, 5, 1) + bytes([1, 0x11, 0])  # 4 lines of 5 samples
    stream = b"\xff\xd8\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"
    assert frame_size(stream) == (4, 5, 1)


def test_the_most_negative_value_needs_bits_stored_bits() -> None:
    # -2048..2047 is 12 bits signed; -2049 needs 13
    assert value_bits(np.array([-2048, 2047], np.int16)) == 12
    assert value_bits(np.array([-2049], np.int16)) == 13


def test_an_overlay_at_bit_bits_stored_is_embedded() -> None:
    ds = Dataset()
    ds.add_new(0x60000102, "US", 12)  # OverlayBitPosition 12, no OverlayData
    assert embedded_overlay(ds, 12) == (0x6000, 12)
    assert embedded_overlay(ds, 13) is None  # bit 12 holds stored data then


def test_planar_configuration_one_is_noted_only_where_the_decoder_interleaves() -> None:
    # RLE and JPEG-LS decoders order the samples as their stream says: nothing to note
    assert planar_note(RLE, 1) is None
    assert planar_note(JPEG_LS, 1) is None
    note = planar_note(JPEG_BASELINE, 1)
    assert note is not None and note.endswith("read as 0")


def test_video_syntaxes_are_no_jpeg_family_and_rle_keeps_its_planar_order() -> None:
    assert not is_jpeg_family("1.2.840.10008.1.2.4.100")  # MPEG2 Main Profile
    assert is_jpeg_family(JPEG_LS)
    assert not reads_interleaved(RLE, 1) and reads_interleaved(RLE, None)
