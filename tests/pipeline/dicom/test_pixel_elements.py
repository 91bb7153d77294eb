"""One pixel data element per image, and a BitsAllocated that describes a float one.

pydicom #452 (users building parametric maps by hand, trying PixelData, FloatPixelData and
both, with BitsAllocated 32 for doubles): a DoubleFloatPixelData (7FE0,0009) under
BitsAllocated 32 passed ``inspect`` and failed ``convert`` with numpy's "cannot reshape array
of size 2 into shape (1,4)"; one without BitsAllocated likewise (read as 32); PixelData beside
FloatPixelData was written from PixelData, the floats ignored unsaid. Expected values: the
doubles written, as float32 (exact here), and the notes' numbers from the sizes built (4
pixels, 8 bytes each).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ParametricMapStorage

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import header_dataset, write_folder
from workflows.cli import main

VALUES = [-1.0, 0.0, 0.5, 2.0]


def _map(bits: int | None, **elements: bytes) -> Dataset:
    ds = header_dataset(ParametricMapStorage, "MR")
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 2, 2, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    if bits is not None:
        ds.BitsAllocated = bits
    for keyword, data in elements.items():
        setattr(ds, keyword, data)
    return ds


def _convert(src: Path, out: Path) -> tuple[int, list[dict[str, str]], dict[str, str]]:
    code = main(["convert", str(src), str(out), "--format", "npy", "--quiet"])
    with (out / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    with (out / "errors.csv").open() as fh:
        errors = {row["source"]: row["reason"] for row in csv.DictReader(fh)}
    return code, rows, errors


def _inspected(src: Path) -> dict[str, str]:
    return {p.where: p.reason for p in index_folder(src).all_problems()}


def test_doubles_under_bits_allocated_32_are_read_as_doubles(tmp_path: Path) -> None:
    doubles = np.array(VALUES, "<f8").tobytes()
    src = write_folder(tmp_path / "src", d32=_map(32, DoubleFloatPixelData=doubles),
                       nobits=_map(None, DoubleFloatPixelData=doubles))  # fmt: skip
    code, rows, errors = _convert(src, tmp_path / "out")
    assert code == 0 and not errors
    by_source = {row["source"]: row for row in rows}
    for name in ("d32.dcm", "nobits.dcm"):
        got = np.load(tmp_path / "out" / by_source[name]["output"])
        assert got.dtype == np.float32 and got.ravel().tolist() == VALUES
    note = (
        "BitsAllocated (0028,0100) contradicts DoubleFloatPixelData (7FE0,0009): it is 32, but "
        "the element holds 64-bit floats (PS3.3 C.7.6.25 gives BitsAllocated 64), and its 32 "
        "bytes are Rows x Columns x Frames (4) of them: read as 64-bit floats"
    )
    assert by_source["d32.dcm"]["problems"] == note
    assert by_source["nobits.dcm"]["problems"] == ""
    assert _inspected(src) == {"d32.dcm": f"note: {note}"}


def test_floats_that_fit_bits_allocated_not_their_element_are_refused(tmp_path: Path) -> None:
    # 8 float32 values in 32 bytes: 4 pixels of 64 bits, or 8 floats for 4 pixels
    floats = np.array([*VALUES, *VALUES], "<f4").tobytes()
    src = write_folder(tmp_path / "src", f64=_map(64, FloatPixelData=floats),
                       good=_map(32, FloatPixelData=floats[:16]))  # fmt: skip
    code, rows, errors = _convert(src, tmp_path / "out")
    reason = ("BitsAllocated (0028,0100) contradicts FloatPixelData (7FE0,0008): it is 64, but "
              "the element holds 32-bit floats (PS3.3 C.7.6.24 gives BitsAllocated 32), and its "
              "32 bytes are not Rows x Columns x Frames (4) of them: which values the header "
              "describes is unknown.")  # fmt: skip
    assert code == 1 and errors == {"f64.dcm": reason}
    assert [row["source"] for row in rows] == ["good.dcm"]  # the batch went on
    assert _inspected(src) == {"f64.dcm": reason}


def test_two_pixel_data_elements_are_refused_by_name(tmp_path: Path) -> None:
    floats = np.array(VALUES, "<f4").tobytes()
    both = _map(32, PixelData=np.arange(4, dtype="<u4").tobytes(), FloatPixelData=floats)
    both.BitsStored, both.HighBit, both.PixelRepresentation = 32, 31, 0
    doubles = _map(64, FloatPixelData=floats, DoubleFloatPixelData=np.zeros(4, "<f8").tobytes())
    src = write_folder(tmp_path / "src", both=both, floats=doubles)
    code, rows, errors = _convert(src, tmp_path / "out")
    tail = ("present, where an image holds one pixel data element (PS3.3 C.7.6.3, C.7.6.24-25): "
            "which of them is the image is unknown.")  # fmt: skip
    expected = {
        "both.dcm": f"PixelData (7FE0,0010) and FloatPixelData (7FE0,0008) are both {tail}",
        "floats.dcm": "FloatPixelData (7FE0,0008) and DoubleFloatPixelData (7FE0,0009) are "
        f"both {tail}",
    }
    assert code == 1 and not rows and errors == expected
    assert _inspected(src) == expected


def test_float_colour_samples_are_refused(tmp_path: Path) -> None:
    """Float RGB in 0..1 was written to PNG as if 0..255: black, unsaid."""
    ds = _map(32, FloatPixelData=np.full(12, 0.5, "<f4").tobytes())
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    src = write_folder(tmp_path / "src", rgb=ds)
    assert main(["convert", str(src), str(tmp_path / "out"), "--quiet"]) == 1
    with (tmp_path / "out" / "errors.csv").open() as fh:
        errors = {row["source"]: row["reason"] for row in csv.DictReader(fh)}
    reason = ("FloatPixelData (7FE0,0008) with SamplesPerPixel (0028,0002) 3: float pixel data "
              "are one grey sample a pixel (PS3.3 C.7.6.24-25: SamplesPerPixel 1, MONOCHROME2), "
              "and float colour samples have no defined range to write as colours.")  # fmt: skip
    assert errors == {"rgb.dcm": reason}
    assert _inspected(src) == {"rgb.dcm": reason}
