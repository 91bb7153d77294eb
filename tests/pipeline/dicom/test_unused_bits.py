"""Native and RLE grey values with bits set above BitsStored: masked as before, now said.

PS3.5 8.1.1: bits above HighBit are undefined, so they are masked (vtk-dicom #134), as
pydicom and dcmtk do. Real files hold two kinds of data there: junk (cornerstone3D #781,
fixed by PR #2868, drew it as bright speckle), where masking is right, and the values' own
high bits under a BitsStored that understates them (MR magnitudes above 4095 under
BitsStored 12, dcm2niix #343), where masking turns a CT's metal 4500 (3476 HU) into 404
(-620 HU). radpipe masked both without a word (exit 0, empty problems); now the note says
how many values masking changed and what they read whole. Expected values by hand: 4500 &
0xFFF = 404, 5000 & 0xFFF = 904; signed 0x1388 (5000) & 0xFFF = 0x388 = 904.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, RLELossless

from pipeline.dicom import read_instance
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

CT = "1.2.840.10008.5.1.4.1.1.2"
WORDS = np.array([[0, 1024, 2000, 4095], [4500, 5000, 1000, 1100]], np.uint16)
MASKED = [[0, 1024, 2000, 4095], [404, 904, 1000, 1100]]  # 4500 & 4095, 5000 & 4095


def _ct(words: np.ndarray, *, signed: bool = False, syntax: str = "") -> Dataset:
    ds = image_dataset(CT, "CT", 2, 4, stored=12, signed=signed)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = words.astype("<i2" if signed else "<u2").tobytes()
    if syntax == RLELossless:  # pydicom's encoder checks BitsStored: encode the 16-bit words
        ds.BitsStored, ds.HighBit = 16, 15
        ds.compress(RLELossless, encoding_plugin="pydicom")
        ds.BitsStored, ds.HighBit = 12, 11
    elif syntax == ExplicitVRBigEndian:
        ds.file_meta.TransferSyntaxUID = syntax
        ds.PixelData = words.astype(">i2" if signed else ">u2").tobytes()
    return ds


def _read(tmp_path: Path, ds: Dataset) -> tuple[list[list[int]], list[str]]:
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_instance(path, "ct.dcm")
    return image.stored[0].tolist(), [p for p in image.problems if "BitsStored" in p]


@pytest.mark.parametrize("syntax", ["", RLELossless, ExplicitVRBigEndian],
                         ids=["native", "rle", "big-endian"])  # fmt: skip
def test_values_past_bits_stored_are_masked_and_said(tmp_path: Path, syntax: str) -> None:
    stored, (said,) = _read(tmp_path, _ct(WORDS, syntax=syntax))
    assert stored == MASKED  # masked as before (as pydicom reads them)
    assert "bits above BitsStored (0028,0101) 12" in said and "2 of 8 values" in said
    assert "bits 12-15 set (read whole: 4500 to 5000)" in said and "5000 read as 904" in said
    assert "so bits 12-15 were cleared (masked to 12 bits), as PS3.5 8.1.1" in said
    assert "; " not in said  # the convert summary splits problems on it


def test_signed_values_keep_sign_extension_unsaid(tmp_path: Path) -> None:
    # -1000 sign-extended (0xFC18) and stored in 12 bits alone (0x0C18): both -1000, unsaid;
    # 0x1388 (5000) is no 12-bit value: masked to 0x388 = 904, said
    words = np.array([[0xFC18, 0x0C18, 100, 0x1388]] * 2, np.uint16).view(np.int16)
    stored, (said,) = _read(tmp_path, _ct(words, signed=True))
    assert stored == [[-1000, -1000, 100, 904]] * 2
    assert "2 of 8 values" in said and "(read whole: 5000)" in said
    # which bits, and what became of them, said of a signed image (it said "masked to 12 bits")
    assert "have bits 12-15 that are not copies of the sign bit 11 (read whole: 5000)" in said
    assert ("so bits 12-15 were replaced by copies of bit 11 (sign extension: each read as a "
            "12-bit signed value)") in said and "(5000 read as 904)" in said  # fmt: skip


def test_clean_and_overlay_bits_stay_unsaid(tmp_path: Path) -> None:
    stored, said = _read(tmp_path, _ct(WORDS & 0x0FFF))
    assert stored == MASKED and said == []
    ds = _ct(np.where(np.arange(8).reshape(2, 4) == 5, WORDS | 0x1000, WORDS & 0x0FFF))
    for elem, vr, value in ((0x0010, "US", 2), (0x0011, "US", 4), (0x0040, "CS", "G"),
                            (0x0050, "SS", [1, 1]), (0x0100, "US", 16),
                            (0x0102, "US", 12)):  # fmt: skip
        ds.add_new(0x60000000 | elem, vr, value)  # an overlay in bit 12: the header says why
    stored, said = _read(tmp_path, ds)
    assert stored == MASKED and said == []


def test_convert_writes_the_note_in_the_manifest(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _ct(WORDS).save_as(src / "ct.dcm", enforce_file_format=True)
    main(["convert", str(src), str(out), "--format", "npy", "--quiet"])
    (row,) = csv.DictReader((out / "manifest.csv").open())
    assert np.load(out / row["output"])[1].tolist() == [-620, -120, -24, 76]  # masked - 1024
    assert "2 of 8 values have bits 12-15 set" in row["problems"]


def test_a_split_series_gives_the_note_to_its_files_volume_only(tmp_path: Path) -> None:
    """One SeriesInstanceUID, two SeriesNumbers (dcm_qa_12bit's merged export): two volumes.
    Only ``a.dcm`` has bits above BitsStored; ``b.dcm``'s volume was given its note too,
    each volume having every file's notes."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    first = _ct(WORDS)
    for name, words, number in (("a.dcm", WORDS, 1), ("b.dcm", WORDS & 0x0FFF, 2)):
        ds = _ct(words)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = first.StudyInstanceUID, first.SeriesInstanceUID
        ds.SeriesNumber, ds.InstanceNumber = number, 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [1, 1], 2
        ds.save_as(src / name, enforce_file_format=True)
    main(["convert", str(src), str(out), "--format", "nifti", "--per", "series", "--quiet"])
    rows = {r["source"]: r["problems"] for r in csv.DictReader((out / "manifest.csv").open())}
    assert sorted(rows) == ["a.dcm", "b.dcm"]
    assert "SeriesNumber values in one SeriesInstanceUID" in rows["b.dcm"]  # the series': both
    assert "2 of 8 values have bits 12-15 set" in rows["a.dcm"]
    assert "BitsStored" not in rows["b.dcm"]
