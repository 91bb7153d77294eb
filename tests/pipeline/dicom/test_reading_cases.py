"""Reading right or refusing for the true reason: rebuilt public bug reports (LUT Data in
16-bit words, comma Pixel Spacing, no File Meta, Float Pixel Data) and the kinds around them."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.pixels import apply_modality_lut as pd_modality
from pydicom.pixels import apply_voi_lut as pd_voi
from pydicom.sequence import Sequence
from pydicom.uid import (
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
)

from pipeline.dicom.files import escape_name, sanitize
from pipeline.dicom.index import Instance, Problem, read_header
from pipeline.dicom.lut import lut_table
from pipeline.dicom.read import read_instance, render
from pipeline.errors import DicomError
from pipeline.ops.voi import WindowSpec
from tests.pipeline.dicom.builders import image_dataset

HEADER = WindowSpec(mode="header", name="header")
NONE = WindowSpec(mode="none", name="none")


def _image(rows: int = 16, cols: int = 16, syntax: str = ExplicitVRLittleEndian) -> Dataset:
    ds = image_dataset(CTImageStorage, "CT", rows, cols, stored=12, syntax=syntax)
    ds.PixelData = np.arange(rows * cols, dtype="<u2").tobytes()
    return ds


def _save(ds: Dataset, path: Path, **kwargs: object) -> Path:
    ds.save_as(path, enforce_file_format=True, **kwargs)  # type: ignore[arg-type]
    return path


# --- reports/03: VOI LUT with 8-bit entries, one per 16-bit word ---------------------------


@pytest.mark.parametrize("as_ow", [False, True], ids=["implicit-US", "explicit-OW"])
def test_voi_lut_8bit_entries_in_words_invert(tmp_path: Path, as_ow: bool) -> None:
    ds = _image(syntax=ExplicitVRLittleEndian if as_ow else ImplicitVRLittleEndian)
    item = Dataset()
    item.LUTDescriptor = [256, 0, 8]
    lut = (255 - np.arange(256)).astype("<u2")
    if as_ow:
        item.add_new(0x00283006, "OW", lut.tobytes())
    else:
        item.add_new(0x00283006, "US", [int(v) for v in lut])
    ds.VOILUTSequence = Sequence([item])
    image = read_instance(_save(ds, tmp_path / "voi.dcm"))
    png, used = render(image, 0, HEADER, "uint8")
    assert used == "header"
    # expected.md: display value of stored v is LUT[v] / 255 -> PNG 255 - v (all 256 values)
    assert png.ravel().tolist() == [255 - v for v in range(256)]
    ref = pydicom.dcmread(tmp_path / "voi.dcm")
    assert png.ravel().tolist() == pd_voi(ref.pixel_array, ref).ravel().tolist()


def _lut_dataset(kind: str, bits: int, layout: str, syntax: str) -> Dataset:
    ds = _image(syntax=syntax)
    item = Dataset()
    count = 300 if bits > 8 else 256
    values = (np.arange(count) * 7 + 3) % (2**bits)
    item.LUTDescriptor = [count, 10, bits]
    if layout == "US":
        item.add_new(0x00283006, "US", [int(v) for v in values])
    else:
        order = ">u2" if syntax == ExplicitVRBigEndian else "<u2"
        item.add_new(0x00283006, "OW", values.astype(order).tobytes())
    if kind == "modality":
        item.ModalityLUTType = "HU"
        ds.ModalityLUTSequence = Sequence([item])
    else:
        ds.VOILUTSequence = Sequence([item])
    return ds


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                                    ExplicitVRBigEndian], ids=["LE", "implicit", "BE"])  # fmt: skip
@pytest.mark.parametrize("layout", ["US", "OW"])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("kind", ["modality", "voi"])
def test_lut_tables_match_pydicom_bit_for_bit(
    tmp_path: Path, kind: str, bits: int, layout: str, syntax: str
) -> None:
    ds = _lut_dataset(kind, bits, layout, syntax)
    big = syntax == ExplicitVRBigEndian
    if big:
        ds.PixelData = np.arange(256, dtype=">u2").tobytes()
    path = _save(ds, tmp_path / "lut.dcm", **({"little_endian": False, "implicit_vr": False}
                                              if big else {}))  # fmt: skip
    ref = pydicom.dcmread(path)
    # pydicom 3.0 indexes 8-bit VOI LUTs with uint8, so inputs past first + 255 wrap around
    # there; PS3.3 C.11.2.1.1 maps them to the last entry, as radpipe does (checked below).
    top = 10 + 255 if (kind, bits) == ("voi", 8) else 400
    stored = np.arange(-5, top + 1, dtype=np.int64)
    seq = ref.ModalityLUTSequence if kind == "modality" else ref.VOILUTSequence
    first, table, _ = lut_table(seq[0], "lut.dcm", little=not big)
    ours = table[np.clip(stored - first, 0, len(table) - 1)]
    theirs = (pd_modality if kind == "modality" else pd_voi)(stored, ref)
    assert ours.tolist() == np.asarray(theirs).tolist()
    assert table[np.clip(1000 - first, 0, len(table) - 1)] == ((len(table) - 1) * 7 + 3) % 2**bits


def test_lut_8bit_packed_one_per_byte_and_short_data_refused() -> None:
    item = Dataset()
    item.LUTDescriptor = [4, 0, 8]
    item.add_new(0x00283006, "OW", bytes([9, 8, 7, 6]))  # packed: N bytes for N entries
    assert lut_table(item, "f", little=True)[1].tolist() == [9, 8, 7, 6]
    item.LUTDescriptor = [8, 0, 8]
    with pytest.raises(DicomError, match=r"LUTData holds 4 bytes; 8 entries"):
        lut_table(item, "f", little=True)


# --- reports/05, 06, 07 and the recoverable kinds -------------------------------------------


def test_comma_pixel_spacing_recovered_with_a_note(tmp_path: Path) -> None:
    ds = _image()
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [0.7, 0.7], 1, -1024
    ds.PixelData = (1024 + np.arange(256)).astype("<u2").tobytes()
    path = _save(ds, tmp_path / "ct.dcm")
    path.write_bytes(path.read_bytes().replace(b"0.7\\0.7 ", b"0.7,0.7 "))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = read_instance(path, "ct.dcm")
    assert image.frames[0].pixel_spacing == (0.7, 0.7)
    assert render(image, 0, NONE)[0].ravel().tolist() == list(range(256))  # HU, expected.md
    assert any("PixelSpacing (0028,0030)" in p for p in image.problems)
    header = read_header(path, tmp_path)
    assert isinstance(header, Instance) and header.pixel_spacing == (0.7, 0.7)
    assert any("(0028,0030)" in n for n in header.notes)


def test_file_without_preamble_or_file_meta_decodes_with_the_parsed_syntax(tmp_path: Path) -> None:
    ds = _image()
    del ds.file_meta
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    write_dataset(buf, ds)
    path = tmp_path / "RD_export.dcm"
    path.write_bytes(buf.getvalue())
    image = read_instance(path, "RD_export.dcm")
    hu = render(image, 0, NONE)[0]
    assert hu.ravel()[:5].tolist() == [-1024, -1023, -1022, -1021, -1020]
    assert any("inferred as Implicit VR Little Endian" in p for p in image.problems)


def test_float_pixel_data_read_unchanged(tmp_path: Path) -> None:
    ds = _image(4, 4)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.30"
    del ds.PixelData, ds.BitsStored, ds.HighBit, ds.PixelRepresentation
    ds.BitsAllocated = 32
    ds.FloatPixelData = (0.25 * np.arange(16, dtype="<f4") - 1.0).tobytes()
    image = read_instance(_save(ds, tmp_path / "adc.dcm"))
    values = render(image, 0, NONE)[0]
    assert values.ravel().tolist() == (0.25 * np.arange(16) - 1.0).tolist()
    assert read_header(tmp_path / "adc.dcm", tmp_path).frames == 1  # type: ignore[union-attr]


def test_float_pixel_data_nan_and_inf_are_said_and_png_maps_them(tmp_path: Path) -> None:
    """A parametric map's NaN ("no value") and an inf: kept in float outputs with a note; the
    8-bit output writes NaN as 0 and clips inf (it cast NaN to an undefined integer, and the
    only message was numpy's "invalid value encountered in cast")."""
    ds = _image(4, 4)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.30"
    del ds.PixelData, ds.BitsStored, ds.HighBit, ds.PixelRepresentation
    ds.BitsAllocated = 32
    v = 0.25 * np.arange(16, dtype="<f4") - 1.0
    v[:3], v[3] = np.nan, np.inf
    ds.FloatPixelData = v.tobytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way
        image = read_instance(_save(ds, tmp_path / "adc.dcm"))
        values = render(image, 0, NONE)[0]
        png = render(image, 0, NONE, "uint8")[0]
    assert np.array_equal(values.ravel(), v, equal_nan=True)
    assert image.problems == (
        "float pixel data with non-finite values (3 NaN, 1 +inf of 16): kept in NPY and NIfTI,"
        " and PNG writes NaN as 0 and infinities as the ends of its range",
    )
    # finite values 0.0 .. 2.75 span 0 .. 255: round(255 * v / 2.75); NaN 0, +inf 255
    expected = [0, 0, 0, 255] + [round(255 * 0.25 * k / 2.75) for k in range(12)]
    assert png.ravel().tolist() == expected


def test_two_valued_rescale_slope_takes_the_first_with_a_note(tmp_path: Path) -> None:
    ds = _image()
    ds.RescaleSlope, ds.RescaleIntercept = [2, 3], -10
    image = read_instance(_save(ds, tmp_path / "s.dcm"))
    assert render(image, 0, NONE)[0].ravel()[:3].tolist() == [-10, -8, -6]
    assert "RescaleSlope (0028,1053) has 2 values, the first (2) is used" in image.problems
    assert not any("; " in p for p in image.problems)  # "; " joins the problems column


def test_dicomdir_and_reports_are_skipped_not_failed(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    dicomdir = Path(str(get_testdata_file("DICOMDIR", download=False)))
    (tmp_path / "DICOMDIR").write_bytes(dicomdir.read_bytes())
    found = read_header(tmp_path / "DICOMDIR", tmp_path)
    assert isinstance(found, Problem) and found.skipped and "DICOMDIR" in found.reason
    plan = Path(str(get_testdata_file("rtplan.dcm", download=False)))
    (tmp_path / "plan.dcm").write_bytes(plan.read_bytes())
    found = read_header(tmp_path / "plan.dcm", tmp_path)
    assert isinstance(found, Problem) and found.skipped and "RT Plan Storage" in found.reason


# --- malformed and damaged: refused for the true reason -------------------------------------


@pytest.mark.parametrize(
    ("tag", "vr", "value", "reason"),
    [
        (0x00280010, "LO", b"abc ", r"Rows \(0028,0010\) must be a whole number"),
        (0x00280010, "OB", b"\xff\xfe", r"Rows \(0028,0010\)"),
        (0x00280100, "US", struct.pack("<H", 7), r"BitsAllocated \(0028,0100\) must be 1, 8"),
        (0x00200037, "DS", b"1\\0\\0\\1\\0\\0 ", r"row and column are zero or parallel"),
        (0x00280030, "DS", b"a\\b ", r"PixelSpacing \(0028,0030\) is not numeric"),
        (
            0x00200032,
            "DS",
            b"SECRETPID42 ",
            r"ImagePositionPatient \(0020,0032\) is not numeric: "
            r"text of \d+ characters \(not shown",
        ),  # a name in a numeric field stays unprinted
        # numbers are shown as they are (0,5\\0,5 is read now: decimal commas)
        (0x00280030, "DS", b"0,5,5\\0,5 ", r"\['0,5,5', '0,5'\]"),
    ],
    ids=[
        "rows-text",
        "rows-OB",
        "bits-7",
        "iop-parallel",
        "spacing-text",
        "ipp-name",
        "spacing-comma",
    ],
)
def test_malformed_header_is_a_problem_naming_the_tag(
    tmp_path: Path, tag: int, vr: str, value: bytes, reason: str
) -> None:
    from pydicom.dataelem import RawDataElement

    ds = _image()
    ds[tag] = RawDataElement(pydicom.tag.Tag(tag), vr, len(value), value, 0, False, True)
    path = tmp_path / "bad.dcm"
    ds.save_as(path, enforce_file_format=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = read_header(path, tmp_path)
        assert isinstance(found, Problem), found
        assert found.reason and __import__("re").search(reason, found.reason), found.reason
        assert "SECRET" not in found.reason
        with pytest.raises(DicomError, match=reason):
            read_instance(path, "bad.dcm")


def test_truncated_rle_named_as_truncated(tmp_path: Path) -> None:
    from pydicom.uid import RLELossless

    ds = _image()
    ds.compress(RLELossless)
    path = _save(ds, tmp_path / "rle.dcm")
    path.write_bytes(path.read_bytes()[:-40])
    found = read_header(path, tmp_path)
    assert isinstance(found, Problem) and found.reason.startswith("truncated file"), found
    with pytest.raises(DicomError, match="truncated file"):
        read_instance(path, "rle.dcm")


def test_decoder_panic_becomes_a_dicom_error() -> None:
    path = Path(__file__).parents[2] / "data" / "fuzz" / "rle_panic.dcm"
    with pytest.raises(DicomError) as caught:
        read_instance(path, "rle_panic.dcm")
    assert str(caught.value) == (  # the plugin's words, not pyo3's class name
        "rle_panic.dcm: RLE Lossless pixel data could not be decoded: the decoder plugin crashed"
        " on malformed data (index out of bounds: the len is 512 but the index is 512)"
    )


def test_jpeg2000_codestream_dimensions_checked_before_decoding(tmp_path: Path) -> None:
    ds = _image(32, 32)
    ds.compress(JPEG2000Lossless)
    frame = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    at = frame.index(b"\xff\x51") + 6  # SIZ: Lsiz(2) Rsiz(2), then Xsiz, Ysiz
    bomb = frame[:at] + struct.pack(">II", 16384, 16384) + frame[at + 8 :]
    ds.PixelData = pydicom.encaps.encapsulate([bomb])
    path = _save(ds, tmp_path / "j2k.dcm")
    with pytest.raises(DicomError, match=r"codestream claims 16384x16384x1 pixels, over the limit"):
        read_instance(path, "j2k.dcm", max_pixels=2**20)
    with pytest.raises(DicomError, match=r"codestream is 16384x16384 .* say 32x32"):
        read_instance(path, "j2k.dcm")
    found = read_header(path, tmp_path, max_pixels=2**20)  # inspect refuses it too
    assert isinstance(found, Problem) and "codestream claims 16384x16384x1" in found.reason


def test_truncated_jpeg_frame_and_excess_native_data_are_problems(tmp_path: Path) -> None:
    from PIL import Image
    from pydicom.uid import JPEGBaseline8Bit

    ds = _image()
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    buf = io.BytesIO()
    Image.fromarray(np.tile(np.arange(16, dtype=np.uint8) * 16, (16, 1))).save(buf, "JPEG")
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = pydicom.encaps.encapsulate([buf.getvalue()[:-2]])  # EOI marker cut off
    image = read_instance(_save(ds, tmp_path / "cut.dcm"), "cut.dcm")
    assert any("no end marker (EOI/EOC)" in p for p in image.problems), image.problems
    header = read_header(tmp_path / "cut.dcm", tmp_path)
    assert isinstance(header, Instance) and any("no end marker" in n for n in header.notes)
    ds = _image()
    ds.PixelData = ds.PixelData + bytes(100)
    image = read_instance(_save(ds, tmp_path / "long.dcm"), "long.dcm")
    assert any("100 more than the header needs" in p for p in image.problems), image.problems


def test_deflated_file_inflated_as_a_stream_with_a_cap(tmp_path: Path) -> None:
    ds = _image()
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.PixelData = bytes(64 * 2**20)  # 64 MiB of zeros: about 64 KiB deflated
    path = _save(ds, tmp_path / "bomb.dcm")
    assert path.stat().st_size < 2**20
    with pytest.raises(DicomError, match="inflates to more than"):
        read_instance(path, "bomb.dcm", max_pixels=2**16)
    # header only (inspect): 16 MiB inflated at most; the pixel element's length is kept
    header = read_header(path, tmp_path)
    assert isinstance(header, Instance)
    assert any("holds 67,108,864 bytes, 67,108,352 more" in n for n in header.notes)
    ds.PixelData = np.arange(256, dtype="<u2").tobytes()
    good = _save(ds, tmp_path / "good.dcm")
    header = read_header(good, tmp_path)
    assert isinstance(header, Instance) and header.rows == 16
    assert render(read_instance(good), 0, NONE)[0].ravel()[:3].tolist() == [0, 1, 2]


def test_warnings_are_sanitized_and_names_escaped() -> None:
    text = sanitize("Invalid value for VR UI: '05fa52f0e599f17b8186ff18fcdf2b55' in file /x/y.dcm")
    assert "05fa52f0" not in text and "/x/y.dcm" not in text and "VR UI" in text
    assert (
        sanitize("uid 1.2.840.113619.2.55 seen")
        == "uid #"
        + __import__("pipeline.keys").keys.hash_key("1.2.840.113619.2.55", length=8)
        + " seen"
    )
    assert escape_name("a\x1b[2Jb.dcm") == "a\\x1b[2Jb.dcm"
    # an object's address differs in every run: the same failure must read the same
    pillow = "pillow: cannot identify image file <_io.BytesIO object at 0x7fc5017e6ac0>"
    assert sanitize(pillow) == "pillow: cannot identify image file <_io.BytesIO object>"
    assert escape_name(__import__("os").fsdecode(b"caf\xe9.dcm")) == "caf\\xe9.dcm"
