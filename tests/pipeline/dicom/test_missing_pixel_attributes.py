"""Type 1 Image Pixel attributes that were defaulted without a word (found by fuzzing).

A missing PixelRepresentation (0028,0103) was read as 0 and a missing SamplesPerPixel
(0028,0002) as 1, silently: a signed CT read as unsigned gave -1000 as 64536 with no note.
Both are now noted (inspect and convert alike); a colour image without SamplesPerPixel is
refused naming it. A colour image whose PixelRepresentation says signed was read as signed
samples (RGB 200 written as -56) or failed in pydicom's colour conversion; it is read as
unsigned, noted. Expected values are worked out by hand from the bytes written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, SecondaryCaptureImageStorage

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti

_NO_PR = ("PixelRepresentation (0028,0103) is missing (Type 1, PS3.3 C.7.6.3): stored values "
          "read as unsigned, as PixelRepresentation 0 says")  # fmt: skip
_NO_SPP = ("SamplesPerPixel (0028,0002) is missing: read as 1, as PhotometricInterpretation "
           "(0028,0004) MONOCHROME2 has 1")  # fmt: skip
_SIGNED_RGB = ("PixelRepresentation (0028,0103) is 1 (signed), but colour samples are "
               "unsigned intensities (a signed RGB or YBR sample has no colour meaning): "
               "read as 0")  # fmt: skip


def _ct(missing: str) -> Dataset:
    ds = image_dataset(CTImageStorage, "CT", 2, 2, signed=True)
    ds.PixelData = np.array([-1000, 0, 5, 100], "<i2").tobytes()
    delattr(ds, missing)
    return ds


def _rgb(**extra: object) -> Dataset:
    ds = image_dataset(SecondaryCaptureImageStorage, "OT", 1, 2, bits=8, samples=3,
                       photometric="RGB")  # fmt: skip
    ds.PlanarConfiguration = 0
    ds.PixelData = bytes([200, 10, 130, 0, 255, 127])
    for key, value in extra.items():
        setattr(ds, key, value)
    return ds


def _convert(tmp_path: Path, ds: Dataset) -> tuple[list[dict[str, str]], dict[str, str]]:
    src = write_folder(tmp_path / "src", x=ds)
    rows, errors, _ = convert_nifti(src, tmp_path / "out", format="npy", per="instance")
    return rows, errors


def _inspected(tmp_path: Path) -> set[str]:
    return {p.reason for p in index_folder(tmp_path / "src").all_problems()}


@pytest.mark.parametrize(
    ("missing", "note", "values"),
    [("PixelRepresentation", _NO_PR, [[64536, 0], [5, 100]]),  # -1000 & 0xFFFF
     ("SamplesPerPixel", _NO_SPP, [[-1000, 0], [5, 100]])],
    ids=["pixel-representation", "samples-per-pixel"],
)  # fmt: skip
def test_a_missing_type_1_pixel_attribute_is_noted(
    tmp_path: Path, missing: str, note: str, values: list[list[int]]
) -> None:
    rows, errors = _convert(tmp_path, _ct(missing))
    # unsigned: the wrapped-sign check (wrapped_sign.py) says -1000 looks like 64536 too
    assert not errors and rows[0]["problems"].split("; ")[0] == note
    assert np.load(tmp_path / "out" / rows[0]["output"]).tolist() == values
    assert f"note: {note}" in _inspected(tmp_path)


def test_a_colour_image_without_samples_per_pixel_is_refused(tmp_path: Path) -> None:
    ds = _rgb()
    del ds.SamplesPerPixel
    _, errors = _convert(tmp_path, ds)
    said = ("SamplesPerPixel (0028,0002) is missing (read as 1) but PhotometricInterpretation "
            "(0028,0004) RGB has 3.")  # fmt: skip
    assert errors == {"x.dcm": said}


def test_signed_colour_samples_are_read_unsigned(tmp_path: Path) -> None:
    rows, errors = _convert(tmp_path, _rgb(PixelRepresentation=1))
    assert not errors and [r["problems"] for r in rows] == [_SIGNED_RGB]
    assert np.load(tmp_path / "out" / rows[0]["output"]).tolist() == [
        [[200, 10, 130], [0, 255, 127]]
    ]
    assert _inspected(tmp_path) == {f"note: {_SIGNED_RGB}"}


def test_signed_ybr_samples_are_read_unsigned_not_failed(tmp_path: Path) -> None:
    # YBR_FULL (Y, Cb, Cr) = (128, 128, 128) is grey 128 (PS3.3 C.7.6.3.1.2); pydicom's
    # conversion refused int8 samples ("Invalid ndarray.dtype 'int8'"), so the file failed
    ds = _rgb(PixelRepresentation=1, PhotometricInterpretation="YBR_FULL")
    ds.PixelData = bytes([128] * 6)
    rows, errors = _convert(tmp_path, ds)
    assert not errors and np.load(tmp_path / "out" / rows[0]["output"]).tolist() == [
        [[128, 128, 128], [128, 128, 128]]
    ]
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        assert _SIGNED_RGB in next(csv.DictReader(fh))["problems"]
