"""The plain-file reader gives exactly what pydicom's reading gives, or steps aside.

Each file is read twice: with :mod:`pipeline.dicom.plain` on and off. The header facts
(:func:`read_header`), the decoded image (:func:`read_instance`) and a whole conversion must be
equal; where the plain reader takes a file (``read_plain`` not ``None``) its values must be
pydicom's. Variants are written to hit each rule of the walk (implicit VR, sequences of
undefined length, padding, odd values, unknown character sets, elements after the pixel data).
"""

from __future__ import annotations

import gc
import struct
import weakref
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.dicom import plain
from pipeline.dicom.header import Instance, read_header
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.conftest import BUNDLED, bundled_images
from tests.pipeline.dicom.plain_files import ct_dataset as _ct
from tests.pipeline.dicom.plain_files import save as _save


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The results the plain reading gave (``None``: the caller read the file with pydicom)."""
    results: list[object] = []
    original = plain.try_plain

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        results.append(original(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(plain, "try_plain", counted)
    return results


def _both(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``fn`` with the plain reader on, then off (results, or the errors' texts)."""
    out = []
    for enabled in (True, False):
        plain.ENABLED = enabled
        try:
            out.append(fn(*args, **kwargs))
        except Exception as err:
            out.append(f"{type(err).__name__}: {err}")
        finally:
            plain.ENABLED = True
    return out


def _nested() -> Sequence:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator = "T-D3000", "SRT"
    inner = Dataset()
    inner.CodeMeaning = "nested"
    item.ConceptNameCodeSequence = Sequence([inner])
    return Sequence([item, Dataset()])


def _undefined_lengths(path: Path) -> None:
    """Re-encode the file's sequences with undefined lengths (pydicom writes defined ones)."""
    ds = pydicom.dcmread(path)
    for elem in ds.iterall():
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for item in elem.value:
                item.is_undefined_length_sequence_item = True
    ds.save_as(path)


# name -> (dataset changes, syntax, expected: does the plain reader take it?)
VARIANTS: dict[str, tuple[dict[str, object], str, bool]] = {
    "explicit": ({}, ExplicitVRLittleEndian, True),
    "implicit": ({}, ImplicitVRLittleEndian, True),
    "no charset": ({"SpecificCharacterSet": None}, ExplicitVRLittleEndian, True),
    "utf-8 charset": ({"SpecificCharacterSet": "ISO_IR 192"}, ExplicitVRLittleEndian, True),
    "unknown charset": ({"SpecificCharacterSet": "ISO_IR 999"}, ExplicitVRLittleEndian, False),
    "two charsets": (  # pydicom warns: ISO_IR 192 is no code extension
        {"SpecificCharacterSet": ["ISO_IR 100", "ISO_IR 192"]},
        ExplicitVRLittleEndian,
        False,
    ),
    "iso 2022 charsets": (
        {"SpecificCharacterSet": ["", "ISO 2022 IR 87"]},
        ImplicitVRLittleEndian,
        True,
    ),
    "sequences": ({"ProcedureCodeSequence": _nested()}, ExplicitVRLittleEndian, True),
    "sequences implicit": ({"ProcedureCodeSequence": _nested()}, ImplicitVRLittleEndian, True),
    "uid with a null pad": ({"SeriesInstanceUID": "1.2.3.4.55"}, ExplicitVRLittleEndian, True),
    "spaces in DS": (
        {"SliceThickness": " 1.25", "RescaleSlope": "1.0 "},
        ExplicitVRLittleEndian,
        True,
    ),
    "exponent DS": ({"RepetitionTime": "4.5E+02"}, ExplicitVRLittleEndian, True),
    "comma in PixelSpacing": ({}, ExplicitVRLittleEndian, True),
    "two slopes": ({"RescaleSlope": ["1", "2"]}, ExplicitVRLittleEndian, True),
    "two echoes": ({"EchoNumbers": ["1", "2"]}, ExplicitVRLittleEndian, True),
    "lower-case modality": ({"Modality": "ct"}, ExplicitVRLittleEndian, True),
    "long patient id": ({"PatientID": "X" * 70}, ExplicitVRLittleEndian, True),
    "non-ascii description": ({"SeriesDescription": "Thorax ä"}, ExplicitVRLittleEndian, True),
    "empty instance number": ({"InstanceNumber": ""}, ExplicitVRLittleEndian, True),
    "parallel orientation": (
        {"ImageOrientationPatient": ["1", "0", "0", "1", "0", "0"]},
        ExplicitVRLittleEndian,
        True,
    ),
    "no rows": ({"Rows": None}, ExplicitVRLittleEndian, True),
    "short pixel data": ({"PixelData": b"\0" * 20}, ExplicitVRLittleEndian, True),
    "long pixel data": ({"PixelData": b"\0" * 64}, ExplicitVRLittleEndian, True),
    "signed 16": (
        {"PixelRepresentation": 1, "BitsStored": 16, "HighBit": 15},
        ExplicitVRLittleEndian,
        True,
    ),
    "monochrome1 8-bit": (
        {
            "PhotometricInterpretation": "MONOCHROME1",
            "BitsAllocated": 8,
            "BitsStored": 8,
            "HighBit": 7,
            "PixelData": bytes(range(30)),
        },
        ImplicitVRLittleEndian,
        True,
    ),
    "multi-frame": (
        {"NumberOfFrames": "3", "PixelData": (np.arange(90, dtype="<u2") * 97 % 4096).tobytes()},
        ExplicitVRLittleEndian,
        True,
    ),
    "diffusion": ({"DiffusionBValue": 1000.0, "TriggerTime": "12.5"}, ExplicitVRLittleEndian, True),
    "mosaic": ({"ImageType": ["ORIGINAL", "PRIMARY", "M", "MOSAIC"]}, ExplicitVRLittleEndian, True),
}


def _variant(tmp_path: Path, name: str) -> Path:
    changes, syntax, _ = VARIANTS[name]
    path = _save(_ct(**changes), tmp_path / f"{name.replace(' ', '_')}.dcm", syntax)
    if name.startswith("sequences"):
        _undefined_lengths(path)
    old, new = PATCHES.get(name, (b"", b""))
    if old:
        data = path.read_bytes()
        assert data.count(old) == 1 and len(old) == len(new)
        path.write_bytes(data.replace(old, new))
    return path


#: Values pydicom will not write, patched into the bytes (same length).
PATCHES = {
    "uid with a null pad": (b"1.2.3.4.55", b"1.2.3.4.5\0"),
    "comma in PixelSpacing": (b"0.703125\\0.703125", b"0.703125,0.703125"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_reads_as_pydicom_reads_it(tmp_path: Path, name: str, taken: list[object]) -> None:
    path = _variant(tmp_path, name)
    assert (plain.read_plain(path) is not None) is VARIANTS[name][2]
    fast, slow = _both(read_header, path, tmp_path)
    assert fast == slow
    fast_image, slow_image = _both(read_instance, path, path.name)
    _same_image(fast_image, slow_image)
    if name in ("explicit", "implicit", "sequences", "multi-frame", "monochrome1 8-bit"):
        assert taken[0] is not None and taken[2] is not None  # header, then image (on, off)


def _same_image(a: object, b: object) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    assert vars(a).keys() == vars(b).keys()
    for key, value in vars(a).items():
        other = vars(b)[key]
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and np.array_equal(value, other), key
        elif key not in ("modality_lut", "voi_lut"):
            assert value == other, key


def test_clean_variant_takes_the_plain_path_and_its_values_are_pydicoms(tmp_path: Path) -> None:
    path = _variant(tmp_path, "explicit")
    ds, ref = plain.read_plain(path, pixels=True), pydicom.dcmread(path)
    assert ds is not None
    for keyword in plain.HELD:
        mine, theirs = ds.get(keyword), ref.get(keyword)
        if isinstance(theirs, pydicom.multival.MultiValue):
            theirs = list(theirs)
        assert mine == theirs, keyword
        assert type(mine) in (type(theirs), float, int, str), keyword
    assert bytes(ds.PixelData) == ref.PixelData
    # an element it does not hold comes from pydicom, on demand
    assert ds.get("SliceLocation") is None and ds.get("StudyDate") is None
    assert "ImageType" in ds and "ProcedureCodeSequence" not in ds


def test_a_plain_dataset_is_freed_as_soon_as_it_is_unused(tmp_path: Path) -> None:
    """No reference cycle (the File Meta once referred back to its dataset): the file's bytes
    go when the last reference does, not at the next run of the cycle collector. Its File
    Meta still answers from pydicom after the dataset is gone."""
    path = _variant(tmp_path, "explicit")
    gc.disable()
    try:
        ds = plain.read_plain(path, pixels=True)
        meta = ds.file_meta
        gone = weakref.ref(ds)
        del ds
        assert gone() is None
        assert meta.get("ImplementationClassUID") == pydicom.dcmread(path).file_meta.get(
            "ImplementationClassUID"
        )
    finally:
        gc.enable()


def test_elements_after_the_pixel_data_send_the_file_to_pydicom(tmp_path: Path) -> None:
    path = _variant(tmp_path, "explicit")
    data = path.read_bytes()
    path.write_bytes(data + struct.pack("<HH2sHI", 0xFFFC, 0xFFFC, b"OB", 0, 4) + b"\0" * 4)
    assert plain.read_plain(path) is None
    path.write_bytes(data[:-7])  # truncated pixel data
    assert plain.read_plain(path) is None
    fast, slow = _both(read_header, path, tmp_path)
    assert fast == slow and not isinstance(fast, Instance)


def test_wrong_meta_group_length_sends_the_file_to_pydicom(tmp_path: Path) -> None:
    path = _variant(tmp_path, "explicit")
    data = bytearray(path.read_bytes())
    length = struct.unpack_from("<I", data, 140)[0]
    struct.pack_into("<I", data, 140, length - 2)
    path.write_bytes(bytes(data))
    assert plain.read_plain(path) is None


@pytest.mark.parametrize("name", bundled_images())
def test_bundled_file_reads_as_pydicom_reads_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes((BUNDLED / name).read_bytes())
    fast, slow = _both(read_header, path, tmp_path)
    assert fast == slow
    fast_image, slow_image = _both(read_instance, path, name)
    _same_image(fast_image, slow_image)


def test_synthetic_study_is_read_plainly_and_converts_byte_identical(
    ct_study: Path, tmp_path: Path, taken: list[object]
) -> None:
    from workflows.convert.batch import ConvertOptions, convert_folder

    files = sorted((ct_study / "dicom").rglob("*.dcm"))
    assert files and all(plain.read_plain(f) is not None for f in files)
    outputs = []
    for enabled, out in ((True, tmp_path / "fast"), (False, tmp_path / "slow")):
        plain.ENABLED = enabled
        try:
            for fmt, per in (("npy", "instance"), ("nifti", "series")):
                options = ConvertOptions(format=fmt, per=per, resume=False)
                convert_folder(ct_study / "dicom", out / fmt, options, progress=False)
        finally:
            plain.ENABLED = True
        outputs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if
                        p.is_file() and p.suffix != ".json"})  # fmt: skip
    # per file: the npy conversion, the series index, the series read; then all again, off
    assert len(taken) == 6 * len(files) and all(r is not None for r in taken[: 3 * len(files)])
    assert outputs[0].keys() == outputs[1].keys() and len(outputs[0]) > len(files)
    for key, data in outputs[0].items():
        assert data == outputs[1][key], key


def test_values_kept_from_the_last_file_are_only_reused_for_the_same_bytes(
    tmp_path: Path,
) -> None:
    """The plain reader reuses the last converted value of a tag when the next file holds the
    same bytes; files that differ get their own value, and a list handed out is a copy."""
    a = _save(_ct(PixelSpacing=["0.5", "0.5"]), tmp_path / "a.dcm")
    b = _save(_ct(PixelSpacing=["0.7", "0.8"], SOPInstanceUID="1.2.3.4.5.7"), tmp_path / "b.dcm")
    c = _save(_ct(PixelSpacing=["0.5", "0.5"], SOPInstanceUID="1.2.3.4.5.8"), tmp_path / "c.dcm")
    seen = []
    for path in (a, c, b, a):  # c holds a's bytes; b others
        ds = plain.read_plain(path)
        assert ds is not None
        spacing, uid = ds.get("PixelSpacing"), ds.get("SOPInstanceUID")
        seen.append((list(spacing), uid))
        spacing.append(99.0)  # the caller owns its list
        ref = pydicom.dcmread(path)  # each answer is pydicom's
        expected = [float(v) for v in ref.PixelSpacing], ref.SOPInstanceUID
        assert (list(spacing[:2]), uid) == expected
    assert seen == [([0.5, 0.5], "1.2.3.4.5.6"), ([0.5, 0.5], "1.2.3.4.5.8"),
                    ([0.7, 0.8], "1.2.3.4.5.7"), ([0.5, 0.5], "1.2.3.4.5.6")]  # fmt: skip
