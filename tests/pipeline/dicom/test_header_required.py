"""Header elements every decoder needs: the Transfer Syntax UID and the Photometric Interpretation.

Found by ``benchmarks/fuzz.py``: a File Meta group without (0002,0010) was read (pydicom
guesses the encoding of the data set) and then refused at decoding with pydicom's "no
Transfer Syntax UID" as "pixel data could not be decoded: AttributeError"; a
PhotometricInterpretation of two values was "TypeError: unhashable type: 'list'", and a
missing one was listed as an image by ``inspect`` and refused by ``convert``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import CTImageStorage

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset
from workflows.convert.batch import ConvertOptions, convert_folder

STORED = np.arange(16, dtype="<u2").reshape(4, 4) * 100  # 0 .. 1500


def _ct(photometric: str = "MONOCHROME2") -> object:
    ds = image_dataset(CTImageStorage, "CT", 4, 4, stored=12, photometric=photometric)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = STORED.tobytes()
    return ds


def _write_without_syntax(ds: object, path: Path, implicit: bool) -> None:
    """Preamble, DICM, a File Meta group without (0002,0010) or a group length, the data set."""
    meta = ds.file_meta  # type: ignore[attr-defined]
    del meta.TransferSyntaxUID
    with path.open("wb") as raw:
        fp = DicomFileLike(raw)
        fp.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(fp, meta, enforce_standard=False)
        fp.is_little_endian, fp.is_implicit_VR = True, implicit
        write_dataset(fp, ds)  # type: ignore[arg-type]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit", "explicit"])
def test_file_meta_without_transfer_syntax_is_read_with_the_parsed_one(
    tmp_path: Path, implicit: bool
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _write_without_syntax(_ct(), src / "ct.dcm", implicit)
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    assert result.converted == 1 and not result.failures
    [row] = _rows(tmp_path / "out" / "manifest.csv")
    hu = np.load(tmp_path / "out" / row["output"])
    np.testing.assert_array_equal(hu, STORED.astype(np.float32) - 1024)  # HU by hand
    syntax = "Implicit" if implicit else "Explicit"
    assert row["problems"] == (
        f"no TransferSyntaxUID (0002,0010): transfer syntax inferred as {syntax} VR Little Endian"
    )
    assert not index_folder(src).problems


def test_photometric_interpretation_missing_or_not_one_value_is_refused_alike(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    missing = _ct()
    del missing.PhotometricInterpretation  # type: ignore[attr-defined]
    missing.save_as(src / "missing.dcm", enforce_file_format=True)  # type: ignore[attr-defined]
    _ct("MONOCHROME2\\RGB").save_as(src / "two.dcm", enforce_file_format=True)  # type: ignore[attr-defined]
    _ct().save_as(src / "good.dcm", enforce_file_format=True)  # type: ignore[attr-defined]
    expected = {
        "missing.dcm": "PhotometricInterpretation (0028,0004) is missing: the pixels cannot be "
        "read without it.",
        "two.dcm": "PhotometricInterpretation (0028,0004) must be one text value (MONOCHROME2, "
        "RGB, ...); got 2 values.",
    }
    index = index_folder(src)
    assert {p.where: p.reason for p in index.problems} == expected  # inspect
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    assert result.converted == 1
    errors = {r["source"]: r["reason"] for r in _rows(tmp_path / "out" / "errors.csv")}
    assert errors == expected  # convert, in the same words


def test_a_binary_photometric_interpretation_is_one_value_not_one_per_byte() -> None:
    """A wrong VR (OB) gives pydicom bytes: its 12 bytes were said to be "12 values"."""
    from pipeline.dicom.header_checks import check_image_header
    from pipeline.errors import DicomError

    ds = _ct()
    del ds.PhotometricInterpretation  # type: ignore[attr-defined]
    ds.add_new(0x00280004, "OB", b"MONOCHROME2 ")  # type: ignore[attr-defined]
    with pytest.raises(DicomError) as err:
        check_image_header(ds)
    assert err.value.reason == (
        "PhotometricInterpretation (0028,0004) must be one text value (MONOCHROME2, RGB, ...); "
        "got binary data."
    )
