"""Enhanced US Volume frames placed by their volume position (PS3.3 A.59, C.8.24.2; Sup 43 as
quoted in MedicalUltrasound/Image3dAPI #88: every frame at ImagePositionVolume (0, 0, z),
ImageOrientationVolume 1\\0\\0\\0\\1\\0).

Such a file has no ImagePositionPatient: its frames were stacked unplaced in stored order, so a
4-D volume of two time points of three slices came out as one 6-slice volume, the second time
point's slices after the first's ([0, 1, 2, 10, 11, 12] for slices 0-2 of time points 0 and 1),
its slice step 1 (not 0.5 mm), with only "no geometry" said; stored out of order, as here,
the slices of both time points came out mixed in stored order. Now the volume positions place
the frames, noted.

Expected values by hand: frame (t, z) holds 10 t + z everywhere; slices at z = 0, 0.5, 1.0 mm;
pixels 0.3 mm.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.pipeline.dicom.builders import image_dataset, item
from workflows.cli import main

US_VOLUME = "1.2.840.10008.5.1.4.1.1.6.2"
#: (time point, slice) of each stored frame: neither time nor position order.
STORED = [(1, 2), (0, 0), (1, 0), (0, 2), (0, 1), (1, 1)]


def _volume(patient_plane: bool = False) -> Dataset:
    ds = image_dataset(US_VOLUME, "US", 4, 4, bits=8)
    ds.NumberOfFrames, ds.FrameOfReferenceUID = len(STORED), "1.2.3.4"
    measures = item(PixelSpacing=[0.3, 0.3], SliceThickness=0.5)
    orient = item(ImageOrientationVolume=[1, 0, 0, 0, 1, 0])
    shared = item(PixelMeasuresSequence=Sequence([measures]),
                  PlaneOrientationVolumeSequence=Sequence([orient]))  # fmt: skip
    if patient_plane:  # a patient plane as well, 2 mm apart: it is the one used
        shared.PlaneOrientationSequence = Sequence(
            [item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]
        )
    frames = []
    for t, z in STORED:
        content = item(TemporalPositionIndex=t + 1, InStackPositionNumber=z + 1,
                       DimensionIndexValues=[t + 1, z + 1])  # fmt: skip
        at = item(ImagePositionVolume=[0, 0, z * 0.5])
        frame = item(FrameContentSequence=Sequence([content]),
                     PlanePositionVolumeSequence=Sequence([at]))  # fmt: skip
        if patient_plane:
            frame.PlanePositionSequence = Sequence([item(ImagePositionPatient=[0, 0, z * 2.0])])
        frames.append(frame)
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.PixelData = np.concatenate([np.full(16, 10 * t + z, np.uint8) for t, z in STORED]).tobytes()
    return ds


def _convert(tmp_path: Path, fmt: str, ds: Dataset) -> Path:
    src, out = tmp_path / "src", tmp_path / fmt
    src.mkdir(exist_ok=True)
    ds.save_as(src / "vol.dcm", enforce_file_format=True)
    assert main(["convert", str(src), str(out), "--format", fmt, "--per", "series", "--quiet"]) == 0
    return out


def test_time_points_of_a_us_volume_are_volumes_of_their_own_placed_slices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _volume()
    out = _convert(tmp_path, "npy", ds)
    volumes = [np.load(p) for p in sorted(out.rglob("*.npy"))]
    assert [v[:, 0, 0].tolist() for v in volumes] == [[0, 1, 2], [10, 11, 12]]
    assert (
        "placed in the ultrasound volume frame of reference" in (out / "manifest.csv").read_text()
    )
    out = _convert(tmp_path, "nifti", ds)
    images = [nib.load(p) for p in sorted(out.rglob("*.nii.gz"))]
    assert [np.asarray(i.dataobj)[0, 0, :].tolist() for i in images] == [[0, 1, 2], [10, 11, 12]]
    for image in images:
        assert image.header.get_zooms() == pytest.approx((0.3, 0.3, 0.5))
        # the transducer's coordinates, not the scanner's: sform "aligned" (2), no qform
        assert (int(image.header["sform_code"]), int(image.header["qform_code"])) == (2, 0)
    capsys.readouterr()
    main(["inspect", str(tmp_path / "src")])
    shown = capsys.readouterr().out
    assert "6 slices in 2 volumes, 0.5 mm" in shown
    assert "ImagePositionVolume (0020,9301)" in shown


def test_a_patient_plane_beside_the_volume_plane_is_the_one_used(tmp_path: Path) -> None:
    out = _convert(tmp_path, "npy", _volume(patient_plane=True))
    volumes = [np.load(p) for p in sorted(out.rglob("*.npy"))]
    assert [v[:, 0, 0].tolist() for v in volumes] == [[0, 1, 2], [10, 11, 12]]
    manifest = (out / "manifest.csv").read_text()
    assert "volume frame of reference" not in manifest
    assert ",3x4x4,2x0.3x0.3," in manifest  # the patient plane's 2 mm step
    out = _convert(tmp_path, "nifti", _volume(patient_plane=True))
    for path in out.rglob("*.nii.gz"):  # placed in the patient's coordinates: scanner (1)
        header = nib.load(path).header
        assert (int(header["sform_code"]), int(header["qform_code"])) == (1, 1)
