"""A diffusion-weighted series converted to a 4-D NIfTI gets dcm2niix's ``.bval`` and
``.bvec`` sidecars (FSL convention). Without them the volumes' b-values and gradient
directions were lost: the 4-D NIfTI read as time points, which volume was b = 0 unknown
(dcm2niix writes both files; FSL's dtifit and MRtrix3 need them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

#: (b-value, LPS gradient) per volume: b = 0 without a direction, then three directions.
VOLUMES = [(0, None), (1000, [1.0, 0.0, 0.0]), (1000, [0.0, 1.0, 0.0]), (1000, [0.0, 0.0, 1.0])]


def _dwi(
    src: Path,
    orientation: list[float],
    normal: list[float],
    volumes: list[tuple[int, list[float] | None]] = VOLUMES,
    *,
    siemens: bool = False,
    syntax: str = ExplicitVRLittleEndian,
    vendor: Callable[[Dataset, Any, Any], None] | None = None,
    **extra: object,
) -> None:
    """Volumes of 3 slices 2 mm apart along ``normal``; volume t slice z holds 100 t + z.

    ``siemens``: b-value and gradient in Siemens' private MR header block only, as classic
    Siemens DWI keep them, with ImageType ``ORIGINAL\\PRIMARY\\DIFFUSION\\NONE``.
    ``vendor(ds, b, g)``: writes them its own way instead.
    """
    src.mkdir()
    n = 0
    for t, (b, g) in enumerate(volumes):
        for z in range(3):
            ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4, syntax=syntax)
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", "1.2.3.4", "P"
            ds.ImageOrientationPatient = orientation
            ds.ImagePositionPatient = [2.0 * z * v for v in normal]
            ds.PixelSpacing, ds.RepetitionTime = [1, 1], 3000
            n += 1
            ds.InstanceNumber, ds.AcquisitionTime = n, f"1000{3 * t:02d}"
            if vendor is not None:
                vendor(ds, b, g)
            elif siemens:
                block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
                block.add_new(0x0C, "IS", str(b))
                if g is not None:
                    block.add_new(0x0E, "FD", g)
                ds.ImageType = ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"]
            else:
                ds.DiffusionBValue = b
                if g is not None:
                    ds.DiffusionGradientOrientation = g
            for key, value in extra.items():
                setattr(ds, key, value)
            ds.PixelData = np.full((4, 4), 100 * t + z, "<u2").tobytes()
            ds.save_as(src / f"{n:02d}.dcm", enforce_file_format=True)


def _convert(tmp_path: Path) -> tuple[Path, nib.Nifti1Image]:
    return _converted(tmp_path)[:2]


def _converted(tmp_path: Path) -> tuple[Path, nib.Nifti1Image, str]:
    """The NIfTI, its image and its manifest ``problems``."""
    out = tmp_path / "out"
    args = ["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]
    assert main(args) == 0
    (row,) = read_manifest(out / "manifest.csv")
    return out / row["output"], nib.load(out / row["output"]), row["problems"]


def _sidecar(nifti: Path, suffix: str) -> list[list[float]]:
    path = nifti.with_name(nifti.name.removesuffix(".nii.gz") + suffix)
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("orientation", "normal", "bvecs"),
    [
        # axial: i = LPS +x, j = LPS +y, k = +z; RAS affine diag(-1, -1, 2): det > 0, so FSL's
        # i component is negated: LPS x -> (-1, 0, 0), y -> (0, 1, 0), z -> (0, 0, 1)
        ([1, 0, 0, 0, 1, 0], [0, 0, 1], [[0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
        # sagittal: i = LPS +y, j = LPS -z, k = row x column = LPS -x; RAS columns (0, -1, 0),
        # (0, 0, -1), (2, 0, 0): det +2 > 0. LPS x -> k = -1; y -> i = 1, negated; z -> j = -1
        ([0, 1, 0, 0, 0, -1], [-1, 0, 0], [[0, 0, -1, 0], [0, 0, 0, -1], [0, -1, 0, 0]]),
    ],
    ids=["axial", "sagittal"],
)
def test_dwi_gets_bval_and_bvec_in_fsl_convention(
    tmp_path: Path, orientation: list[float], normal: list[float], bvecs: list[list[float]]
) -> None:
    _dwi(tmp_path / "src", orientation, normal)
    nifti, image = _convert(tmp_path)
    assert image.shape == (4, 4, 3, 4)
    # each volume is the one its b-value and direction describe
    assert np.asarray(image.dataobj)[0, 0, 0].tolist() == [0, 100, 200, 300]
    assert _sidecar(nifti, ".bval") == [[0, 1000, 1000, 1000]]
    assert _sidecar(nifti, ".bvec") == bvecs
    # the rule, from the written affine: unit voxel axes, i negated when det > 0
    linear = image.affine[:3, :3]
    assert np.linalg.det(linear) > 0
    ras = np.array([[0, 0, 0], *[[-g[0], -g[1], g[2]] for _, g in VOLUMES[1:]]])
    expected = (ras @ (linear / np.linalg.norm(linear, axis=0))).T * [[-1], [1], [1]]
    assert np.allclose(_sidecar(nifti, ".bvec"), expected)


def _world(image: nib.Nifti1Image, bvec: list[list[float]]) -> np.ndarray:
    """The RAS gradient directions that FSL reads from ``bvec`` with ``image``'s affine: the
    voxel-axis components, the i component negated back when det > 0, rotated to RAS."""
    linear = image.affine[:3, :3]
    v = np.array(bvec, dtype=float)
    if np.linalg.det(linear) > 0:
        v[0] *= -1
    return np.asarray((linear / np.linalg.norm(linear, axis=0)) @ v)


@pytest.mark.parametrize(
    ("orientation", "normal"),
    [([1, 0, 0, 0, 1, 0], [0, 0, 1]), ([0, 1, 0, 0, 0, -1], [1, 0, 0]),
     ([1, 0, 0, 0, 0, -1], [0, -1, 0]), ([1, 0, 0, 0, 0.8660254, -0.5], [0, 0.5, 0.8660254])],
    ids=["axial", "sagittal", "coronal", "oblique"],
)  # fmt: skip
def test_bvec_gives_dcm2niix_s_gradients_in_the_scanner_frame(
    tmp_path: Path, orientation: list[float], normal: list[float]
) -> None:
    """dcm2niix stores rows flipped (det < 0), radpipe does not (det > 0), so their .bvec
    files differ; read with each file's own NIfTI, both must give the same RAS gradients:
    the LPS directions written, x and y negated (0.6, 0, 0.8 -> -0.6, 0, 0.8)."""
    from tests.pipeline.dicom.test_volumes import _dcm2niix

    volumes = [*VOLUMES, (2000, [0.6, 0.0, 0.8])]
    _dwi(tmp_path / "src", orientation, normal, volumes)
    nifti, image = _convert(tmp_path)
    (theirs,) = _dcm2niix(tmp_path / "src", tmp_path / "d2n")
    their_bvec = theirs.with_suffix(".bvec").read_text().split("\n")
    ours = _world(image, _sidecar(nifti, ".bvec"))
    assert np.allclose(
        ours,
        _world(nib.load(theirs), [list(map(float, line.split())) for line in their_bvec if line]),
        atol=1e-4,
    )
    ras = [[0, 0, 0], *[[-g[0], -g[1], g[2]] for _, g in volumes[1:]]]  # fmt: skip
    assert np.allclose(ours.T, ras, atol=1e-6)
    assert _sidecar(nifti, ".bval") == [[0, 1000, 1000, 1000, 2000]]


def as_time_points(src: Path) -> None:
    """The files of a :func:`_dwi` series without diffusion attributes, its volumes told
    apart by TemporalPositionIdentifier (fMRI-like)."""
    for path in src.iterdir():
        ds = pydicom.dcmread(path)
        del ds.DiffusionBValue
        if "DiffusionGradientOrientation" in ds:
            del ds.DiffusionGradientOrientation
        ds.TemporalPositionIdentifier = (int(ds.InstanceNumber) - 1) // 3 + 1
        ds.save_as(path)


def test_time_points_get_no_diffusion_sidecars(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _dwi(src, [1, 0, 0, 0, 1, 0], [0, 0, 1])
    as_time_points(src)
    nifti, image = _convert(tmp_path)
    assert image.shape == (4, 4, 3, 4)
    assert sorted(p.suffix for p in nifti.parent.iterdir()) == [".gz", ".json"]  # no .bval


def test_an_isotropic_trace_volume_is_said(tmp_path: Path) -> None:
    # Philips adds a trace image (b 1000, no direction) to its DWI series: a zero-length
    # gradient in the .bvec, which tensor fits cannot use (dcm2niix leaves it out)
    volumes = [*VOLUMES[:3], (1000, None)]
    _dwi(tmp_path / "src", [1, 0, 0, 0, 1, 0], [0, 0, 1], volumes)
    nifti, image, problems = _converted(tmp_path)
    assert image.shape == (4, 4, 3, 4)
    assert _sidecar(nifti, ".bval") == [[0, 1000, 1000, 1000]]
    assert [row[3] for row in _sidecar(nifti, ".bvec")] == [0, 0, 0]
    assert "volume 3 has a b-value but no gradient direction" in problems


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_siemens_private_diffusion_values_give_the_sidecars(tmp_path: Path, syntax: str) -> None:
    # classic Siemens DWI keep b-value and gradient in (0019,xx0C) and (0019,xx0E) only:
    # their volumes were told apart by acquisition order, with no sidecars
    _dwi(tmp_path / "src", [1, 0, 0, 0, 1, 0], [0, 0, 1], siemens=True, syntax=syntax)
    nifti, image, _ = _converted(tmp_path)
    assert image.shape == (4, 4, 3, 4)
    assert np.asarray(image.dataobj)[0, 0, 0].tolist() == [0, 100, 200, 300]
    assert _sidecar(nifti, ".bval") == [[0, 1000, 1000, 1000]]
    assert _sidecar(nifti, ".bvec") == [[0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
