"""An Enhanced MR whose ImageType still says MOSAIC (Siemens XA30, dcm2niix #553).

Siemens XA30 (Numaris X) demosaics classic mosaics into an Enhanced MR of one slice per frame,
placed by its functional groups, but leaves MOSAIC in ImageType (0008,0008)
(``ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC``; dcm2niix: "an enhanced image without any mosaics may
report an image type of the form ..."). radpipe took such a file for a classic mosaic, found no
CSA header giving its tiles and refused the series (`inspect` and `convert` alike). Expected:
its frames are its slices, 2 mm apart along z as their PlanePositionSequence says (by hand:
NIfTI shape (4, 4, 3), affine column k = (0, 0, 2), slice k holding 100 + k), nothing said. A
classic single-frame image marked MOSAIC without a CSA header is still refused.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups
from workflows.cli import main

MOSAIC = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"]


def test_an_enhanced_file_marked_mosaic_is_read_by_its_frames(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Manufacturer = "1.2.3", "1.2.3.4", "SIEMENS"
    ds.ImageType, ds.NumberOfFrames = MOSAIC, 3
    ds.PixelData = np.stack([np.full((4, 4), 100 + k, "<u2") for k in range(3)]).tobytes()
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [
            item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[0, 0, 2.0 * k])]))
            for k in range(3)
        ]
    )
    ds.SharedFunctionalGroupsSequence = shared_plane_groups()
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    assert main(["inspect", str(tmp_path / "src")]) == 0
    assert "3 slices, 2 mm" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert (row["shape"], row["problems"]) == ("3x4x4", "")
    image = nib.load(out / row["output"])
    assert image.shape == (4, 4, 3)
    np.testing.assert_allclose(image.affine[:3, 2], [0, 0, 2])
    assert np.asarray(image.dataobj)[0, 0].tolist() == [100, 101, 102]


def test_a_classic_mosaic_without_its_csa_header_is_still_refused(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.ImageType = "1.2.3", "1.2.3.5", MOSAIC
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 0]
    ds.PixelSpacing, ds.PixelData = [1, 1], np.zeros((4, 4), "<u2").tobytes()
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "m.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 1
    assert "mosaic not supported: no Siemens CSA image header" in (out / "errors.csv").read_text()
