"""Decoding stored values: every transfer syntax and photometric interpretation pydicom ships.

Expectations are independent of radpipe's code paths: pydicom's own ``pixel_array`` and
``apply_modality_lut``, raw bytes re-read by hand, dcm2niix reference volumes, and lossless
variants of the same image.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_color_lut, apply_modality_lut

from pipeline.dicom import decode_stored, fix_bits, read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom.conftest import BUNDLED, bundled, bundled_images

# 12-bit lossy JPEG (no plugin decodes it) and a stream pydicom itself rejects.
UNDECODABLE = {"JPEG-lossy.dcm", "JPEG2000-embedded-sequence-delimiter.dcm"}
# Truncated or header-inconsistent on purpose.
BROKEN = {"MR_truncated.dcm", "badVR.dcm"}
IMAGES = [n for n in bundled_images() if n not in UNDECODABLE | BROKEN]


def _read(name: str) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(BUNDLED / name)


@pytest.mark.parametrize("name", IMAGES)
def test_bundled_file_matches_pydicom(name: str) -> None:
    ds = _read(name)
    expected = np.asarray(ds.pixel_array)
    image = read_instance(BUNDLED / name, name)
    if image.photometric == "PALETTE COLOR":
        expected = apply_color_lut(expected, ds)
    assert np.array_equal(image.stored.reshape(expected.shape), expected)
    assert image.stored.dtype.isnative
    if not image.is_color:
        for f in (0, len(image.frames) - 1):
            frame = expected if expected.ndim == 2 else expected[f]
            hu = apply_modality_lut(frame, ds)
            if "DoseGridScaling" in ds:  # RT Dose: doses, which pydicom's function leaves out
                hu = hu * float(ds.DoseGridScaling)
            assert np.allclose(image.modality(f), hu, rtol=1e-6, atol=1e-4)


def test_every_shipped_syntax_and_photometric_is_covered() -> None:
    syntaxes, photometrics = set(), set()
    for name in bundled_images():
        ds = pydicom.dcmread(BUNDLED / name, stop_before_pixels=True)
        syntaxes.add(str(ds.file_meta.TransferSyntaxUID))
        photometrics.add(str(ds.PhotometricInterpretation))
    covered = set()
    for name in IMAGES:
        ds = pydicom.dcmread(BUNDLED / name, stop_before_pixels=True)
        covered |= {str(ds.file_meta.TransferSyntaxUID), str(ds.PhotometricInterpretation)}
    # Only 12-bit lossy JPEG (4.51 is still covered by JPGExtended.dcm) may be missing.
    assert syntaxes | photometrics <= covered
    assert {"MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "PALETTE COLOR"} <= photometrics


@pytest.mark.parametrize(
    "variant",
    ["MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm",
     "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm",
     "MR_small_padded.dcm"],
)  # fmt: skip
def test_lossless_variants_decode_identically(variant: str) -> None:
    reference = read_instance(bundled("MR_small.dcm")).modality(0)
    assert np.array_equal(read_instance(bundled(variant)).modality(0), reference)


def test_rgb_lossless_variants_identical_and_ybr_close() -> None:
    rle = read_instance(bundled("SC_rgb_rle.dcm")).stored[0]
    assert rle[5, 50].tolist() == [255, 0, 0] and rle[25, 50].tolist() == [0, 255, 0]
    for name in ["SC_rgb_gdcm_KY.dcm", "SC_rgb_jpeg_gdcm.dcm"]:  # J2K and JPEG lossless
        assert np.array_equal(read_instance(bundled(name)).stored[0], rle)
    # YBR_FULL_422 stores chroma at half resolution and JPEG is lossy: close, not equal.
    for name in ["SC_ybr_full_422_uncompressed.dcm", "SC_rgb_dcmtk_+eb+cy+n1.dcm"]:
        rgb = read_instance(bundled(name)).stored[0].astype(int)
        assert np.abs(rgb - rle.astype(int)).mean() < 3.0


def test_planar_configuration_one_by_hand() -> None:
    ds = _read("ExplVR_BigEnd.dcm")
    assert ds.PlanarConfiguration == 1
    planes = np.frombuffer(ds.PixelData, np.uint8)[: 3 * ds.Rows * ds.Columns]
    expected = planes.reshape(3, ds.Rows, ds.Columns).transpose(1, 2, 0)
    assert np.array_equal(read_instance(BUNDLED / "ExplVR_BigEnd.dcm").stored[0], expected)


def test_one_bit_data_unpacked_by_hand() -> None:
    ds = _read("liver_1frame.dcm")
    bits = np.unpackbits(np.frombuffer(ds.PixelData, np.uint8), bitorder="little")
    expected = bits[: ds.Rows * ds.Columns].reshape(ds.Rows, ds.Columns)
    assert np.array_equal(read_instance(BUNDLED / "liver_1frame.dcm").stored[0], expected)


def test_palette_lookup_by_hand() -> None:
    ds = _read("examples_palette.dcm")
    rgb = read_instance(BUNDLED / "examples_palette.dcm").stored[0]
    index = np.frombuffer(ds.PixelData, np.uint8).reshape(ds.Rows, ds.Columns)
    _, first, _ = ds.RedPaletteColorLookupTableDescriptor
    red = np.frombuffer(ds.RedPaletteColorLookupTableData, "<u2")
    blue = np.frombuffer(ds.BluePaletteColorLookupTableData, "<u2")
    for r, c in [(0, 0), (175, 400), (300, 700)]:
        k = int(np.clip(int(index[r, c]) - first, 0, len(red) - 1))
        assert rgb[r, c, 0] == red[k] and rgb[r, c, 2] == blue[k]


def test_native_fast_path_matches_pydicom_for_32_bit_multiframe() -> None:
    ds = _read("rtdose.dcm")
    image = read_instance(BUNDLED / "rtdose.dcm")
    assert image.stored.shape == (15, 10, 10) and image.stored.dtype == np.uint32
    assert np.array_equal(image.stored, ds.pixel_array)
    assert image.modality(3).dtype == np.float64  # 32-bit values do not fit float32 exactly


@pytest.mark.parametrize(
    "raw, bits, signed, expected",
    [
        ([0x0F0F, 0xFFFF, 0x0800], 12, False, [0x0F0F, 0x0FFF, 0x0800]),
        ([0x0F0F, 0xFFFF, 0x0800, 0x07FF], 12, True, [-241, -1, -2048, 2047]),
        ([0xFFFF, 0x0001], 16, True, [-1, 1]),
        ([0x1FFF], 13, True, [-1]),
    ],
    ids=["unsigned-garbage", "signed-12", "signed-16", "signed-13"],
)
def test_fix_bits(raw: list[int], bits: int, signed: bool, expected: list[int]) -> None:
    out = fix_bits(np.array(raw, np.uint16), bits, signed)
    assert out.tolist() == expected
    assert out.dtype == (np.int16 if signed else np.uint16)
    assert fix_bits(out, bits, signed).tolist() == expected  # idempotent


def _tiles(mosaic: np.ndarray, n: int = 35) -> np.ndarray:
    tiles = mosaic.reshape(6, 64, 6, 64).transpose(0, 2, 1, 3).reshape(36, 64, 64)
    return tiles[:n]


@pytest.mark.parametrize(
    "name, ref", [("12bitSigned_0x0F0F.dcm.gz", "12bit_ref_4.nii.gz"),
                  ("12bitUnsigned_0x0F0F.dcm.gz", "12bit_ref_3.nii.gz")],
)  # fmt: skip
def test_12_bit_garbage_high_bits_match_dcm2niix(qa_file, name: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    image = read_instance(qa_file(name))
    expected = np.asarray(nib.load(qa_file(ref)).dataobj)
    tiles = _tiles(image.stored[0])
    for k in (0, 17, 34):
        assert np.array_equal(expected[:, :, k], np.fliplr(tiles[k].T))
    if "Signed" in name:
        assert image.stored.min() == -2048 and {-241, -1} <= set(np.unique(image.stored))


def test_jpeg_lossless_equals_uncompressed_real_scanner_file(qa_file) -> None:  # type: ignore[no-untyped-def]
    plain = read_instance(qa_file("ts_1_explicit_le.dcm.gz")).stored
    jpeg = read_instance(qa_file("ts_5_jpeg_lossless.dcm.gz")).stored
    assert np.array_equal(plain, jpeg) and plain.any()


def test_size_checks_name_file_and_numbers(tmp_path: Path) -> None:
    ds = _read("CT_small.dcm")
    ds.Rows = ds.Columns = 60000
    with pytest.raises(DicomError, match=r"big\.dcm: .*over the limit of 1,000"):
        decode_stored(ds, "big.dcm", max_pixels=1000)
    with pytest.raises(DicomError, match=r"holds 32,768 bytes but .* needs 7,200,000,000"):
        decode_stored(ds, "big.dcm", max_pixels=2**40)


def test_truncated_and_undecodable_give_clear_errors() -> None:
    # pydicom's cut-short file: its element's length says so (test_truncated_words.py)
    with pytest.raises(DicomError, match=r"MR_truncated\.dcm: truncated file: PixelData "
                       r"\(7FE0,0010\) holds 8,130 of its 8,192 bytes$"):  # fmt: skip
        read_instance(bundled("MR_truncated.dcm"), "MR_truncated.dcm")
    with pytest.raises(DicomError, match=r"JPEG-lossy\.dcm: JPEG Extended \(Process 2 and 4\) "
                       "pixel data could not be decoded: every installed decoder failed on its "
                       r"stream \(corrupt or truncated, or a kind none of them reads\): "
                       "pylibjpeg: .*; pillow: Pillow does not support 'JPEG Extended' for "
                       "samples with 12-bit precision$"):  # fmt: skip
        read_instance(bundled("JPEG-lossy.dcm"), "JPEG-lossy.dcm")
    with pytest.raises(DicomError, match=r"no PixelData .*RT Plan Storage"):
        read_instance(bundled("rtplan.dcm"), "rtplan.dcm")


def test_a_failed_decode_reads_the_same_in_every_run(tmp_path: Path) -> None:
    """The plugins' messages hold object addresses (``<_io.BytesIO object at 0x..>``); errors.csv
    must not change from run to run, so they are removed."""
    from pydicom.encaps import encapsulate

    ds = pydicom.dcmread(bundled("MR_small_jp2klossless.dcm"))
    ds.PixelData = encapsulate([b"\0" * 64])
    ds.save_as(tmp_path / "x.dcm")
    with pytest.raises(DicomError) as caught:
        read_instance(tmp_path / "x.dcm", "x.dcm")
    assert "pixel data could not be decoded: every installed decoder failed" in str(caught.value)
    assert "<_io.BytesIO object>" in str(caught.value) and " at 0x" not in str(caught.value)
