"""The manifest's ``padding`` column: Pixel Padding Value pixels said, with what they hold.

A CT's padding (PixelPaddingValue (0028,0120) -2000 stored, -3024 HU with intercept -1024)
kept its value in NPY and NIfTI outputs with no word, so a z-score or mean over the volume
counted pixels that hold no data. The cell gives how many pixels and the value written there
(read back from the output here, and worked out by hand: stored x 1 - 1024), so a mask is
exact. Information, not a problem: ``--strict`` converts such files.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image
from pydicom.uid import CTImageStorage

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import ct_series, image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti
from workflows.convert.batch import ConvertOptions, convert_folder

CT = "1.2.840.10008.5.1.4.1.1.2"


def _ct(folder: Path, pad: list[int], **extra: object) -> Path:
    """3 slices of 4 x 4, stored 1024 (0 HU) but for the first pixels, stored ``pad``."""
    return ct_series(folder, [pad] * 3, **extra)


@pytest.mark.parametrize(
    ("pad", "extra", "written"),
    [
        ([-2000] * 3, {}, "-3024"),
        ([-2000, -1995], {"PixelPaddingRangeLimit": -1990}, "-3024 to -3019"),
    ],
    ids=["value", "range"],
)
def test_a_volume_says_its_padding_and_the_value_written(
    tmp_path: Path, pad: list[int], extra: dict[str, int], written: str
) -> None:
    src = _ct(tmp_path / "src", pad, PixelPaddingValue=-2000, **extra)
    (row,), errors, code = convert_nifti(src, tmp_path / "out", strict=True)
    assert code == 0 and not errors and row["problems"] == ""
    count = 3 * len(pad)
    assert row["padding"] == (
        f"{count} of 48 pixels are pixel padding (no data): written as {written}"
    )
    data = np.asarray(nib.load(tmp_path / "out" / row["output"]).dataobj)
    assert int(np.count_nonzero(data <= -3019)) == count  # the mask the cell lets one build


def test_an_instance_row_gives_the_value_its_png_holds(tmp_path: Path) -> None:
    src = _ct(tmp_path / "src", [-2000] * 3, PixelPaddingValue=-2000)
    rows, _, code = convert_nifti(src, tmp_path / "out", format="png", per="instance")
    assert code == 0 and len(rows) == 3
    for row in rows:
        png = np.asarray(Image.open(tmp_path / "out" / row["output"]))
        said = f"3 of 16 pixels are pixel padding (no data): written as {png[0, 0]}"
        assert row["padding"] == said


def test_no_padding_value_no_padding_cell(tmp_path: Path) -> None:
    (row,), _, _ = convert_nifti(_ct(tmp_path / "src", [-2000] * 3), tmp_path / "out")
    assert row["padding"] == ""


@pytest.mark.parametrize("keyword", ["FloatPixelPaddingValue", "DoubleFloatPixelPaddingValue"])
def test_float_pixel_data_says_its_float_padding_value(tmp_path: Path, keyword: str) -> None:
    # a parametric map's pixels with no data hold FloatPixelPaddingValue (0028,0122) (or the
    # Double Float one, 0028,0123): only integer Pixel Padding Value was read
    from pydicom.uid import ParametricMapStorage

    from tests.pipeline.dicom.builders import header_dataset

    ds = header_dataset(ParametricMapStorage, "MR")
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 2, 3, 1
    ds.PhotometricInterpretation, ds.BitsAllocated = "MONOCHROME2", 32
    ds.FloatPixelData = np.array([[-1.0, 0.5, 2.0], [-1.0, 3.0, 4.0]], "<f4").tobytes()
    setattr(ds, keyword, -1.0)
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "map.dcm", enforce_file_format=True)
    (row,), _, code = convert_nifti(tmp_path / "src", tmp_path / "out", format="npy")
    assert code == 0
    assert np.load(tmp_path / "out" / row["output"]).ravel()[[0, 3]].tolist() == [-1.0, -1.0]
    assert row["padding"] == ("2 of 6 pixels are pixel padding (no data): written as -1")


def test_padding_above_the_data_is_written_as_its_value_not_recoloured(tmp_path: Path) -> None:
    # MONOCHROME2 padded with 65535 above data 0..1000: PS3.3 C.7.5.1.1.2 puts no side of
    # the data for the padding (padding black is a recommendation), so the PNG holds what
    # the values say, white where the padding is, and the cell gives that value: 255 by
    # hand (65535 of 0..65535, the stored range of an unwindowed 16-bit image)
    ds = image_dataset(CTImageStorage, "CT", 2, 2)
    ds.PixelPaddingValue = 65535
    ds.PixelData = np.array([[0, 1000], [65535, 500]], "<u2").tobytes()
    src = write_folder(tmp_path / "src", ct=ds)
    options = ConvertOptions(format="png", window="none")
    assert convert_folder(src, tmp_path / "out", options, progress=False).failures == []
    (row,) = read_manifest(tmp_path / "out" / "manifest.csv")
    png = np.asarray(Image.open(tmp_path / "out" / row["output"]))
    assert png[1, 0] == 255 and png.max(initial=0, where=png != 255) < 5
    assert row["padding"] == "1 of 4 pixels are pixel padding (no data): written as 255"
