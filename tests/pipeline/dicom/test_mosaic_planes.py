"""Siemens mosaics in any plane: tiles ordered by the CSA SliceNormalVector, as nibabel does.

dcm2niix #40: a mosaic's tiles are stored along the CSA SliceNormalVector, which may point
either way along the ImageOrientationPatient normal (sagittal and coronal mosaics often
against the cross product). Sagittal, coronal, oblique and rectangular-tile mosaics, each
with the vector along and against the cross product, are compared with nibabel's
``MosaicWrapper`` (data and affine). A mosaic without the vector, or with one off the
normal's line, was placed by a guess (nibabel and dcm2niix guess opposite directions for an
axial mosaic) or refused as "unreadable CSA header ... the reader gave no reason"; both are
now refused saying why.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from tests.pipeline.dicom import geometry_cases as G

_OBLIQUE_ROW = np.array([1.0, 0.1, 0.05]) / np.linalg.norm([1.0, 0.1, 0.05])
_OBLIQUE_COL = np.cross([0.0, 0.0, 1.0], _OBLIQUE_ROW) / np.linalg.norm(
    np.cross([0.0, 0.0, 1.0], _OBLIQUE_ROW)
)
PLANES = {
    "sagittal": (0.0, 1.0, 0.0, 0.0, 0.0, -1.0),
    "coronal": (1.0, 0.0, 0.0, 0.0, 0.0, -1.0),
    "oblique": tuple(round(float(v), 10) for v in (*_OBLIQUE_ROW, *_OBLIQUE_COL)),
}


def _mosaic(n: int, rows: int, cols: int, iop: tuple[float, ...], normal: list[str] | None):
    """``n`` tiles of ``rows`` x ``cols`` random values; CSA SliceNormalVector ``normal``."""
    m = int(np.ceil(np.sqrt(n)))
    tiled = np.zeros((m * rows, m * cols), np.uint16)
    rng = np.random.default_rng(n)
    for k in range(n):
        r, c = divmod(k, m)
        values = rng.integers(1, 999, (rows, cols))
        tiled[r * rows:(r + 1) * rows, c * cols:(c + 1) * cols] = values  # fmt: skip
    ds = G.image(tiled, G.MR, "", ImageType=["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"],
                 ImagePositionPatient=[-20.0, -30.0, 10.0], ImageOrientationPatient=list(iop),
                 PixelSpacing=[2.0, 3.0], SpacingBetweenSlices=2.5,
                 Manufacturer="SIEMENS")  # fmt: skip
    tags = {"NumberOfImagesInMosaic": ("US", [str(n)]),
            "AcquisitionMatrixText": ("SH", [f"{rows}p*{cols}"])}  # fmt: skip
    if normal is not None:
        tags["SliceNormalVector"] = ("FD", normal)
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291010, "OB", G.csa2(tags))
    return ds


def _along(iop: tuple[float, ...], sign: float) -> list[str]:
    return [f"{sign * v:.10f}" for v in np.cross(iop[:3], iop[3:])]


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["along", "against"])
@pytest.mark.parametrize("plane", list(PLANES))
def test_mosaic_in_any_plane_as_nibabel(tmp_path: Path, plane: str, sign: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nibabel: its DICOM readers are experimental
        from nibabel.nicom.dicomwrappers import wrapper_from_data

    src = G.save(tmp_path / "in", [_mosaic(7, 4, 5, PLANES[plane], _along(PLANES[plane], sign))])
    rows, errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors
    (row,) = rows
    wrapper = wrapper_from_data(pydicom.dcmread(next(src.iterdir())))
    ref = nib.as_closest_canonical(
        nib.Nifti1Image(np.asarray(wrapper.get_data()), G.LPS_TO_RAS @ wrapper.affine)
    )
    mine = nib.as_closest_canonical(nib.load(tmp_path / "out" / row["output"]))
    assert mine.shape == ref.shape
    assert np.array_equal(np.asarray(mine.dataobj), np.asarray(ref.dataobj))
    assert np.allclose(mine.affine, ref.affine, atol=1e-4)


@pytest.mark.parametrize(
    ("normal", "said"),
    [(None, "no SliceNormalVector in the Siemens CSA image header (0029,1010)"),
     (["0.0", "0.0", "1.0"], "the CSA SliceNormalVector (0, 0, 1) is not along the "
      "ImageOrientationPatient normal (-1, 0, 0)")],
    ids=["missing", "off-the-normal"],
)  # fmt: skip
def test_mosaic_without_a_usable_slice_normal_refused(
    tmp_path: Path, normal: list[str] | None, said: str
) -> None:
    src = G.save(tmp_path / "in", [_mosaic(5, 4, 4, PLANES["sagittal"], normal)])
    rows, errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 1 and rows == []
    (why,) = errors.values()
    assert f"mosaic not supported: {said}" in why
