"""Damaged headers are refused in words about the file, by ``inspect`` and ``convert`` alike.

Found by ``benchmarks/fuzz.py`` (seeds 7000-7011): reasons that began with Python's class
names ("malformed header: MemoryError: " for a forged NumberOfFrames, "unreadable DICOM
header: error: Error -3 while decompressing data" for a corrupt deflated data set,
"LUTDescriptor unusable: too many values to unpack (expected 3)", a value shown as b'1e308 ').
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import CTImageStorage, DeflatedExplicitVRLittleEndian

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder


def _ct(syntax: str = "1.2.840.10008.1.2.1") -> Dataset:
    ds = image_dataset(CTImageStorage, "CT", 4, 4, syntax=syntax)
    ds.PixelData = np.arange(16, dtype="<u2").tobytes()
    return ds


def _raw(ds: Dataset, tag: int, vr: str, value: bytes) -> None:
    ds[Tag(tag)] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)


def _both(src: Path, out: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``inspect``'s and ``convert``'s reasons by file."""
    index = index_folder(src)
    convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    with (out / "errors.csv").open(newline="") as fh:
        errors = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    return {p.where: p.reason for p in index.problems}, errors


def test_forged_frames_lut_descriptor_and_binary_value_are_said_in_dicom_terms(
    tmp_path: Path,
) -> None:
    frames, lut, spacing = _ct(), _ct(), _ct()
    _raw(frames, 0x00280008, "IS", b"4294967295")  # NumberOfFrames
    item = Dataset()
    item.LUTDescriptor = [256, 0, 16, 1]  # one value too many
    item.ModalityLUTType = "HU"
    item.add_new(0x00283006, "US", list(range(256)))  # LUTData
    lut.ModalityLUTSequence = Sequence([item])
    _raw(spacing, 0x00280030, "OB", b"1e308 ")  # PixelSpacing with a wrong VR
    src = write_folder(tmp_path / "src", frames=frames, lut=lut, spacing=spacing)
    expected = {
        # past IS's 2**31 - 1 (PS3.5 6.2): refused for its range before its pixel count
        "frames.dcm": "NumberOfFrames (0028,0008) must be a whole number in 0..2147483647; "
        "got '4294967295'.",
        "lut.dcm": "(0028,3002) LUTDescriptor must hold 3 whole numbers (entries, first value "
        "mapped, bits); got 4 values, and no RescaleSlope/Intercept (0028,1053)/(0028,1052) "
        "beside it to use instead.",
        "spacing.dcm": "PixelSpacing (0028,0030) holds 1e+308: past float32's range (3.4e38), "
        "which the outputs hold; a damaged value.",
    }
    inspected, converted = _both(src, tmp_path / "out")
    assert inspected == expected
    assert converted == expected


def test_corrupt_deflated_data_set_is_named_as_such(tmp_path: Path) -> None:
    src = write_folder(tmp_path / "src", deflated=_ct(DeflatedExplicitVRLittleEndian))
    data = bytearray((src / "deflated.dcm").read_bytes())
    start = 132 + 12 + int.from_bytes(data[140:144], "little")  # after (0002,0000)'s group
    data[start] = 0b111  # the first block: BFINAL 1, BTYPE 11, reserved (RFC 1951 3.2.3)
    (src / "deflated.dcm").write_bytes(bytes(data))
    inspected, converted = _both(src, tmp_path / "out")
    assert inspected == converted
    reason = converted["deflated.dcm"]
    assert reason == (
        "unreadable DICOM header: the deflated data set cannot be inflated (zlib: Error -3 "
        "while decompressing data: invalid block type): corrupt or truncated"
    )


def test_pixel_data_length_past_the_end_of_the_file_is_refused_alike(tmp_path: Path) -> None:
    """A damaged PixelData length (one flipped bit: 32 -> 4,128) past the end of the file.

    ``inspect`` (pixel data not read) said "truncated file", ``convert`` (pydicom reads what
    is there, which the header's 4x4 happens to need) converted it without a word.
    """
    src = write_folder(tmp_path / "src", long=_ct())
    data = bytearray((src / "long.dcm").read_bytes())
    at = data.index(b"\xe0\x7f\x10\x00OW\x00\x00") + 8
    assert int.from_bytes(data[at : at + 4], "little") == 32
    data[at : at + 4] = (32 | 1 << 12).to_bytes(4, "little")
    (src / "long.dcm").write_bytes(bytes(data))
    expected = {"long.dcm": "truncated file: PixelData (7FE0,0010) holds 32 of its 4,128 bytes"}
    inspected, converted = _both(src, tmp_path / "out")
    assert inspected == expected
    assert converted == expected


def test_transfer_syntax_uid_dicom_does_not_define_is_refused_alike(tmp_path: Path) -> None:
    """A damaged TransferSyntaxUID: pydicom still parses the data set (it guesses the
    encoding), ``inspect`` listed the file as an image, ``convert`` said "cannot decode
    transfer syntax 1.2.840.10008.1.2.7: Unable to decode the pixel data as a (0002,0010)
    'Transfer Syntax UID' value of ... is not supported"."""
    src = write_folder(tmp_path / "src", damaged=_ct())
    data = (src / "damaged.dcm").read_bytes()
    assert data.count(b"1.2.840.10008.1.2.1\0") == 1  # Explicit VR Little Endian, padded
    (src / "damaged.dcm").write_bytes(
        data.replace(b"1.2.840.10008.1.2.1\0", b"1.2.840.10008.1.2.7\0")
    )
    expected = {
        "damaged.dcm": "TransferSyntaxUID (0002,0010) is no transfer syntax DICOM defines (got "
        "'1.2.840.10008.1.2.7'): no decoder can read the pixel data."
    }
    inspected, converted = _both(src, tmp_path / "out")
    assert inspected == expected
    assert converted == expected


def test_what_every_plugin_said_is_one_line(tmp_path: Path) -> None:
    """pydicom lists each plugin's failure on its own line; ``errors.csv`` got a reason over
    three lines, and the terminal summary too. An RLE header with 0 segments (PS3.5 G.5)."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    ds = _ct()
    ds.compress(RLELossless)
    ds.PixelData = encapsulate([bytes(64)])
    src = write_folder(tmp_path / "src", rle=ds)
    _, converted = _both(src, tmp_path / "out")
    assert converted == {
        "rle.dcm": "RLE Lossless pixel data could not be decoded: every installed decoder "
        "failed on its stream (corrupt or truncated, or a kind none of them reads): pylibjpeg: "
        "Invalid segment offset found in the RLE header; pydicom: The number of RLE segments "
        "in the pixel data doesn't match the expected amount (0 vs. 2 segments)"
    }


def test_nul_byte_inside_specific_character_set_is_named(tmp_path: Path) -> None:
    """A NUL inside SpecificCharacterSet (``ISO_IR\\0100``; one flipped byte, found by
    fuzzing pydicom's test files): pydicom's codec lookup raises ``ValueError: embedded null
    character``, which ``errors.csv`` showed as it was ("unreadable DICOM header: embedded
    null character"), naming neither the attribute nor the damage. Trailing NULs are padding
    pydicom strips (read as ``ISO_IR 100``), so they are no problem."""
    damaged, padded = _ct(), _ct()
    damaged.SpecificCharacterSet = padded.SpecificCharacterSet = "ISO_IR 100"
    src = write_folder(tmp_path / "src", damaged=damaged, padded=padded)
    for name, value in (("damaged", b"ISO_IR\x00100"), ("padded", b"ISO_IR 100\x00\x00")):
        data = (src / f"{name}.dcm").read_bytes()  # pydicom writes no such value itself
        assert data.count(b"CS\x0a\x00ISO_IR 100") == 1
        data = data.replace(b"CS\x0a\x00ISO_IR 100", b"CS" + bytes([len(value), 0]) + value)
        (src / f"{name}.dcm").write_bytes(data)
    expected = {
        "damaged.dcm": "unreadable DICOM header: SpecificCharacterSet (0008,0005) holds a NUL "
        "byte inside its value (not only as trailing padding): no character set can be looked "
        "up for the text values; damaged header"
    }
    inspected, converted = _both(src, tmp_path / "out")
    assert inspected == expected
    assert converted == expected
