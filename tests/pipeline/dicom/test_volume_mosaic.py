"""Siemens mosaics (tiled slices placed from the CSA header), converted as nibabel reads them."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G


def _nibabel_mosaic(path: Path) -> nib.Nifti1Image:
    """nibabel's own reading of a mosaic (``MosaicWrapper``): data (rows, cols, n), LPS
    affine over (row, column, slice), as a RAS NIfTI image."""
    import pydicom
    from nibabel.nicom.dicomwrappers import wrapper_from_data

    wrapper = wrapper_from_data(pydicom.dcmread(path))
    assert wrapper.is_mosaic
    return nib.Nifti1Image(np.asarray(wrapper.get_data()), G.LPS_TO_RAS @ wrapper.affine)


@pytest.mark.parametrize(("n", "tile", "sign"), [(4, 4, 1.0), (9, 3, 1.0), (7, 4, -1.0)],
                         ids=["2x2", "3x3", "3x3-7-tiles-reversed-normal"])  # fmt: skip
def test_mosaic_demosaiced_like_nibabel(tmp_path: Path, n: int, tile: int, sign: float) -> None:
    src = G.save(tmp_path / "in", [G.mosaic(n, tile, sign)])
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    (row,) = rows
    assert code == 0 and row["shape"] == f"{n}x{tile}x{tile}"
    assert row["problems"] == ""  # the tiles are the slices: nothing to say
    mine = nib.as_closest_canonical(nib.load(tmp_path / "out" / row["output"]))
    ref = nib.as_closest_canonical(_nibabel_mosaic(next(src.iterdir())))
    assert mine.shape == ref.shape
    assert np.array_equal(np.asarray(mine.dataobj), np.asarray(ref.dataobj))
    assert np.allclose(mine.affine, ref.affine, atol=1e-4)


def test_mosaic_without_csa_header_refused(tmp_path: Path) -> None:
    ds = G.mosaic(4, 4)
    del ds[0x00291010]
    src = G.save(tmp_path / "in", [ds])
    rows, errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 1 and rows == []
    assert "mosaic not supported: no Siemens CSA image header" in next(iter(errors.values()))


def test_mosaic_time_series_4d(tmp_path: Path) -> None:
    series = generate_uid()
    files = [G.mosaic(4, 4, series=series, value0=10 * t, AcquisitionNumber=t + 1,
                      RepetitionTime=1500) for t in range(3)]  # fmt: skip
    src = G.save(tmp_path / "in", files)
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    (row,) = rows
    img = nib.load(tmp_path / "out" / row["output"])
    assert code == 0 and img.shape == (4, 4, 4, 3) and img.header.get_zooms()[3] == 1.5
    assert np.asarray(img.dataobj)[0, 0, 1].tolist() == [1, 11, 21]


def test_mosaic_per_instance_written_undivided_and_said(tmp_path: Path) -> None:
    src = G.save(tmp_path / "in", [G.mosaic(4, 4)])
    rows, _, code = G.convert_nifti(src, tmp_path / "out", format="npy", per="instance")
    (row,) = rows
    assert code == 0 and row["shape"] == "8x8" and row["volume"] == ""
    assert row["problems"] == (
        "Siemens mosaic written whole, its slices tiled in one image (--per series cuts it "
        "into its slices)"
    )
