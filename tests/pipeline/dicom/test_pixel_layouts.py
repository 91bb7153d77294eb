"""Layouts that were already right, pinned: non-square pixels, multi-frame planar RGB, and
an Enhanced three-plane localizer.

- PixelSpacing (0028,0030) is (row spacing, column spacing): a NIfTI's first axis runs along
  the columns, so its zoom is the second value (nibabel's and dcm2niix's pixdim order), for
  a placed volume (the affine's first column is the row direction cosine times 0.8 mm, LPS
  to RAS) and for a radiograph without placement (zooms only, qform/sform code 0).
- PlanarConfiguration 1 (PS3.3 C.7.6.3.1.3) stores each frame's red, green and blue planes
  one after the other, frame by frame: a reader that splits the whole buffer into three
  planes gives the frames' colours wrong.
- An Enhanced object whose frames name three orientations in their own Plane Orientation
  groups (a Siemens XA61 localizer, dcm2niix #894, nibabel #1392: stacked as one volume
  there) is three volumes, each voxel on its DICOM pixel.
Expected values by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom import geometry_cases as G
from tests.pipeline.dicom.builders import image_dataset
from tests.pipeline.dicom.geometry_cases import CT, image, save
from workflows.convert.batch import ConvertOptions, convert_folder


def _nifti(src: Path, out: Path) -> tuple[dict[str, str], nib.Nifti1Image]:
    convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    return row, nib.load(out / row["output"])


def test_non_square_pixels_of_a_placed_volume(tmp_path: Path) -> None:
    series = generate_uid()
    slices = [image(np.full((4, 6), z, np.uint16), CT, series, PixelSpacing=[0.5, 0.8],
                    ImagePositionPatient=[10.0, 20.0, 2.0 * z],
                    ImageOrientationPatient=[1, 0, 0, 0, 1, 0]) for z in range(3)]  # fmt: skip
    row, img = _nifti(save(tmp_path / "src", slices), tmp_path / "out")
    assert row["shape"] == "3x4x6" and row["spacing"] == "2x0.5x0.8"
    assert img.shape == (6, 4, 3) and img.header.get_zooms() == pytest.approx((0.8, 0.5, 2.0))
    # RAS: x = -(LPS x), y = -(LPS y); columns step 0.8 mm along +x (LPS), rows 0.5 along +y
    expected = np.array([[-0.8, 0, 0, -10], [0, -0.5, 0, -20], [0, 0, 2, 0], [0, 0, 0, 1]])
    assert np.allclose(img.affine, expected)


def test_non_square_pixels_of_a_radiograph_without_placement(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.1.1", "DX", 4, 6)
    ds.PixelSpacing = [0.5, 0.8]
    ds.PixelData = np.arange(24, dtype="<u2").tobytes()
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "dx.dcm", enforce_file_format=True)
    row, img = _nifti(tmp_path / "src", tmp_path / "out")
    assert row["spacing"] == "1x0.5x0.8" and img.header.get_zooms()[:2] == pytest.approx((0.8, 0.5))
    assert int(img.header["qform_code"]) == 0 and int(img.header["sform_code"]) == 0
    # the array is (columns, rows, frames): pixel (row 1, column 2) = 1 * 6 + 2
    assert np.asarray(img.dataobj)[2, 1, 0] == 8


def test_planar_rgb_frames_each_hold_their_own_planes(tmp_path: Path) -> None:
    rgb = (np.arange(2 * 3 * 5 * 3) % 251).astype(np.uint8).reshape(2, 3, 5, 3)  # (F, H, W, 3)
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7.4", "OT", 3, 5, bits=8, samples=3,
                       photometric="RGB")  # fmt: skip
    ds.PlanarConfiguration, ds.NumberOfFrames = 1, 2
    planes = [rgb[f, :, :, c].tobytes() for f in range(2) for c in range(3)]  # R, G, B per frame
    ds.PixelData = b"".join(planes)
    ds.save_as(tmp_path / "rgb.dcm", enforce_file_format=True)
    stored = read_instance(tmp_path / "rgb.dcm", "rgb.dcm").stored
    assert stored.shape == (2, 3, 5, 3) and np.array_equal(stored, rgb)


def test_enhanced_three_plane_localizer_is_three_placed_volumes(tmp_path: Path) -> None:
    planes = {(1, 0, 0, 0, 1, 0): lambda j: (-4.0, -4.0, -3.0 + 3 * j),
              (1, 0, 0, 0, 0, -1): lambda j: (-4.0, -3.0 + 3 * j, 4.0),
              (0, 1, 0, 0, 0, -1): lambda j: (-3.0 + 3 * j, -4.0, 4.0)}  # fmt: skip
    frames = [(iop, place(j)) for iop, place in planes.items() for j in range(3)]
    ds = G.enhanced([p for _, p in frames])
    del ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence
    for group, (iop, _) in zip(ds.PerFrameFunctionalGroupsSequence, frames, strict=True):
        orientation = Dataset()
        orientation.ImageOrientationPatient = [float(v) for v in iop]
        group.PlaneOrientationSequence = Sequence([orientation])
    src = save(tmp_path / "src", [ds])
    convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 and {r["shape"] for r in rows} == {"3x8x8"}
    assert all(r["problems"].startswith("split: 3 orientations") for r in rows)
    codes = set()
    for row in rows:
        G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / row["output"], G.dicom_frames(src))
        codes.add(nib.aff2axcodes(nib.load(tmp_path / "out" / row["output"]).affine))
    assert len(codes) == 3  # axial, coronal, sagittal
