"""More cases of ``benchmarks/fuzz_inputs.py``: NIfTI masks in the segmentation run's masks CSV
(a mask on its image's grid, one whose origin is half a pixel off, one whose affine is DICOM's
LPS, one with a trailing axis of length 1, a probability map) and labels rows a spreadsheet
writes (``1.0`` for ``1``, a class of one series). Importing this module adds them to
:data:`fuzz_inputs_cases.CASES`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from fuzz_inputs_cases import _col, _set, _text, labels, masks
from PIL import Image

Spoil = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _ras(ds: pydicom.Dataset) -> np.ndarray:
    """The image's NIfTI (RAS) affine, from its header (PS3.3 C.7.6.2.1.1, LPS -> RAS)."""
    iop = np.array([float(v) for v in ds.ImageOrientationPatient])
    row_step, col_step = (float(v) for v in ds.PixelSpacing)
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1] = iop[:3] * col_step, iop[3:] * row_step
    lps[:3, 2] = np.cross(iop[:3], iop[3:])
    lps[:3, 3] = [float(v) for v in ds.ImagePositionPatient]
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def _nifti(spoil: Spoil) -> Callable[[Path, list[list[str]]], str]:
    """Line 3's PNG mask saved as NIfTI on its image's grid, then ``spoil``-ed."""

    def mutate(cdir: Path, rows: list[list[str]]) -> str:
        sop = rows[2][_col(rows, "sop_instance_uid")]
        dicom = cdir.parents[1] / "seg" / "dicom"
        headers = (pydicom.dcmread(p, stop_before_pixels=True) for p in dicom.rglob("*.dcm"))
        ds = next(d for d in headers if d.SOPInstanceUID == sop)
        png = np.asarray(Image.open(cdir / rows[2][_col(rows, "mask")]))
        data, affine = spoil(png.T.copy(), _ras(ds))  # NIfTI (i, j): (column, row)
        img = nib.Nifti1Image(data, affine)
        img.set_qform(affine, code=1)
        img.set_sform(affine, code=1)
        nib.save(img, cdir / "m.nii.gz")
        return _text(_set(rows, "mask", 2, "m.nii.gz"))

    return mutate


def _origin(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    moved = affine.copy()
    moved[:3, 3] += 0.5 * affine[:3, 0]
    return data, moved


NIFTI = ("m.nii.gz",)
masks("nifti_on_grid", "accept", _nifti(lambda d, a: (d, a)), NIFTI)
masks("nifti_origin_off", "refuse", _nifti(_origin), NIFTI)
masks("nifti_lps_affine", "refuse",
      _nifti(lambda d, a: (d, np.diag([-1.0, -1.0, 1.0, 1.0]) @ a)), NIFTI)  # fmt: skip
masks("nifti_trailing_axis", "accept", _nifti(lambda d, a: (d[:, :, None, None], a)), NIFTI)
masks("nifti_probabilities", "refuse",
      _nifti(lambda d, a: ((d > 0).astype(np.float32) * 0.7, a)), NIFTI)  # fmt: skip
labels("float_labels", "accept", lambda r: _text(_set(r, "label", 2, r[2][3] + ".0")))
labels("one_series_class", "any",
       lambda r: _text(_set(_set(r, "label", 2, "2"), "class_name", 2, "rare")),
       warn="too few")  # fmt: skip
