"""Image Pixel values pydicom's decoders require: checked by ``inspect`` and ``convert`` alike.

Found by ``benchmarks/fuzz.py`` (seeds 7000-7011, 6,264 files): ``inspect`` listed these
files as images and ``convert`` then refused them at decoding in Python's words: "pixel data
could not be decoded: AttributeError: Missing required element: (0028,0101) 'Bits Stored'"
(an RLE file without BitsStored, which the native path reads as BitsAllocated), "ValueError:
Unknown (0028,0004) 'Photometric Interpretation' value 'MONOCHROMU2'", "ValueError: A
(0028,0002) 'Samples per Pixel' value of '1025' is invalid", "ValueError: invalid literal for
int() with base 10: ''" (an empty NumberOfFrames, which radpipe reads as 1).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import CTImageStorage, RLELossless

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

STORED = np.arange(16, dtype="<u2").reshape(4, 4) * 100  # 0 .. 1500


def _rle(**raw: bytes) -> Dataset:
    """A 4x4 RLE CT (slope 1, intercept -1024); ``raw`` replaces elements by raw IS bytes."""
    ds = image_dataset(CTImageStorage, "CT", 4, 4, stored=16)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.compress(RLELossless, STORED)
    for keyword, value in raw.items():
        tag = Tag(keyword)
        ds[tag] = RawDataElement(tag, "IS", len(value), value, 0, False, True)
    return ds


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def _both(src: Path, out: Path) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]]]:
    """``inspect``'s and ``convert``'s reasons by file, and the manifest's rows."""
    inspected = {p.where: p.reason for p in index_folder(src).problems}
    result = convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    assert result.tasks == len(list(src.iterdir()))
    errors = {r["source"]: r["reason"] for r in _rows(out / "errors.csv")}
    return inspected, errors, _rows(out / "manifest.csv")


def test_rle_without_bits_stored_or_with_empty_frames_is_read_as_the_native_path_reads_it(
    tmp_path: Path,
) -> None:
    no_bits = _rle()
    del no_bits.BitsStored
    src = write_folder(
        tmp_path / "src", no_bits_stored=no_bits, empty_frames=_rle(NumberOfFrames=b"")
    )
    inspected, errors, rows = _both(src, tmp_path / "out")
    assert inspected == errors == {}
    by_source = {r["source"]: r for r in rows}
    for name in ("no_bits_stored.dcm", "empty_frames.dcm"):
        hu = np.load(tmp_path / "out" / by_source[name]["output"])
        np.testing.assert_array_equal(hu, STORED.astype(np.float32) - 1024)  # HU by hand
    note = "BitsStored (0028,0101) is missing: read as BitsAllocated (16)"
    assert by_source["no_bits_stored.dcm"]["problems"] == note
    assert by_source["empty_frames.dcm"]["problems"] == ""
    notes = {i.path: i.notes for s in index_folder(src).series for i in s.instances}
    assert notes == {"no_bits_stored.dcm": (note,), "empty_frames.dcm": ()}  # inspect says it too


def test_unknown_photometric_term_or_samples_per_pixel_is_refused_alike(tmp_path: Path) -> None:
    typo, samples, wide, lower = _rle(), _rle(), _rle(), _rle()
    typo.PhotometricInterpretation = "MONOCHROMU2"
    samples.SamplesPerPixel = 1025
    wide.Columns = 65536  # US holds 0..65535: written as UL here
    wide["Columns"].VR = "UL"
    lower.PhotometricInterpretation = "monochrome2"
    src = write_folder(tmp_path / "src", typo=typo, samples=samples, wide=wide, lower=lower)
    expected = {
        "typo.dcm": "PhotometricInterpretation (0028,0004) must be a defined term (MONOCHROME1, "
        "MONOCHROME2, PALETTE COLOR, RGB, YBR_FULL, ...); got 'MONOCHROMU2'.",
        "samples.dcm": "SamplesPerPixel (0028,0002) must be 1 (grey, palette) or 3 (colour); "
        "got 1025.",
        "wide.dcm": "Columns (0028,0011) must be a whole number in 1..65535; got 65536.",
    }
    inspected, errors, rows = _both(src, tmp_path / "out")
    assert inspected == errors == expected  # inspect and convert, in the same words
    [row] = rows  # read as the reader reads it: stripped, upper case
    assert row["source"] == "lower.dcm"
    hu = np.load(tmp_path / "out" / row["output"])
    np.testing.assert_array_equal(hu, STORED.astype(np.float32) - 1024)


def test_colour_samples_and_planar_configuration_are_checked_alike(tmp_path: Path) -> None:
    """An RGB file whose SamplesPerPixel says 1 was "could not broadcast input array from
    shape (48,) into shape (16,)"; one without PlanarConfiguration "Missing required element:
    (0028,0006) 'Planar Configuration'", both at decoding, after ``inspect`` listed them."""
    rgb = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    files = {}
    for name in ("one_sample", "no_planar", "good"):
        ds = files[name] = image_dataset(CTImageStorage, "OT", 4, 4, bits=8, samples=3,
                                         photometric="RGB")  # fmt: skip
        ds.PlanarConfiguration, ds.PixelData = 0, rgb.tobytes()
    files["one_sample"].SamplesPerPixel = 1
    del files["no_planar"].PlanarConfiguration
    src = write_folder(tmp_path / "src", **files)
    expected = {
        "one_sample.dcm": "SamplesPerPixel (0028,0002) is 1 but PhotometricInterpretation "
        "(0028,0004) RGB has 3.",
        "no_planar.dcm": "PlanarConfiguration (0028,0006) is missing: colour pixels cannot be "
        "read without it (0: RGBRGB..., 1: RR..GG..BB...).",
    }
    inspected, errors, rows = _both(src, tmp_path / "out")
    assert inspected == errors == expected  # inspect and convert, in the same words
    [row] = rows
    np.testing.assert_array_equal(np.load(tmp_path / "out" / row["output"]), rgb)
