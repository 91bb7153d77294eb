"""Dynamic PET time frames told apart by Frame Reference Time (0054,1300).

PET series carry no TemporalPositionIdentifier; their frames' AcquisitionTime can be the
series start for every frame and their InstanceNumber can restart at each frame or run
against time (dcm2niix #184, #577; dcm2mnc #72). Told apart by "acquisition order" only,
the frames at each position were ranked by file name on ties, so a volume took one time
frame at one slice and another elsewhere (by hand: 100 301 102 103). Frame Reference Time,
the frame's time from the series' reference (PS3.3 C.8.9.4.1.5), tells them apart and
orders them in time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom.geometry_cases import image, save
from workflows.convert.batch import ConvertOptions, convert_folder

PT = "1.2.840.10008.5.1.4.1.1.128"
TIMES = [30000, 90000, 210000]  # ms, frame mid-points of 60 s frames


def _nifti_rows(src: Path, out: Path) -> list[dict[str, str]]:
    """``convert --format nifti`` of ``src`` into ``out``: its manifest rows."""
    convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    with (out / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("numbers", ["restart", "against-time"])
def test_pet_time_frames_by_frame_reference_time(tmp_path: Path, numbers: str) -> None:
    series, slices = generate_uid(), []
    for t, time in enumerate(TIMES):
        for z in range(4):
            number = z + 1 if numbers == "restart" else (len(TIMES) - t) * 4 + z
            ds = image(np.full((4, 4), 100 * (t + 1) + z, np.uint16), PT, series,
                       ImagePositionPatient=[0.0, 0.0, 3.0 * z], PixelSpacing=[2.0, 2.0],
                       ImageOrientationPatient=[1, 0, 0, 0, 1, 0], Units="BQML",
                       InstanceNumber=number, FrameReferenceTime=time,
                       ActualFrameDuration=60000, AcquisitionTime="100000")  # fmt: skip
            ds.Modality = "PT"
            slices.append(ds)
    out = tmp_path / "out"
    rows = sorted(_nifti_rows(save(tmp_path / "src", slices), out), key=lambda r: r["output"])
    profiles = [np.asarray(nib.load(out / r["output"]).get_fdata())[0, 0].tolist() for r in rows]
    # one volume per time frame, in time order, each slice from that frame
    assert profiles == [[100 * (t + 1) + z for z in range(4)] for t in range(len(TIMES))]
    assert {r["problems"] for r in rows} == {""}  # tagged time frames: nothing guessed


def test_frames_nothing_tells_apart_say_the_volumes_may_mix_them(tmp_path: Path) -> None:
    """Without FrameReferenceTime, and with the same AcquisitionTime and InstanceNumber at
    each position, the frames are ordered by file name: the volumes are a guess, said."""
    series, slices = generate_uid(), []
    for t in range(2):
        for z in range(3):
            ds = image(np.full((4, 4), 100 * (t + 1) + z, np.uint16), PT, series,
                       ImagePositionPatient=[0.0, 0.0, 3.0 * z], PixelSpacing=[2.0, 2.0],
                       ImageOrientationPatient=[1, 0, 0, 0, 1, 0], InstanceNumber=z + 1,
                       AcquisitionTime="100000")  # fmt: skip
            ds.Modality = "PT"
            slices.append(ds)
    rows = _nifti_rows(save(tmp_path / "src", slices), tmp_path / "out")
    assert len(rows) == 2
    said = ("told apart by acquisition order (AcquisitionTime, InstanceNumber, which tie at 3 "
            "positions: ordered there by file name, so a volume may mix them)")  # fmt: skip
    assert all(said in r["problems"] for r in rows), rows[0]["problems"]


@pytest.mark.parametrize("numbers", ["restart", "against-time"])
def test_pet_time_frames_by_image_index_without_frame_reference_time(
    tmp_path: Path, numbers: str
) -> None:
    """No FrameReferenceTime, the series start as every AcquisitionTime: ImageIndex (Type 1 in
    the PET Image module) is (time slice - 1) x NumberOfSlices + slice for a DYNAMIC series
    (PS3.3 C.8.9.4.1.9), so it tells the frames apart in time order. Before, InstanceNumbers
    running against time made volume _s00 the last frame (by hand: 300 301 302 303), and
    restarting ones a file-name guess."""
    series, slices = generate_uid(), []
    for t in range(3):
        for z in range(4):
            number = z + 1 if numbers == "restart" else (3 - t) * 4 + z
            ds = image(np.full((4, 4), 100 * (t + 1) + z, np.uint16), PT, series,
                       ImagePositionPatient=[0.0, 0.0, 3.0 * z], PixelSpacing=[2.0, 2.0],
                       ImageOrientationPatient=[1, 0, 0, 0, 1, 0], Units="BQML",
                       InstanceNumber=number, ActualFrameDuration=60000,
                       AcquisitionTime="100000", ImageIndex=t * 4 + z + 1, NumberOfSlices=4,
                       NumberOfTimeSlices=3, SeriesType=["DYNAMIC", "IMAGE"])  # fmt: skip
            ds.Modality = "PT"
            slices.append(ds)
    out = tmp_path / "out"
    rows = sorted(_nifti_rows(save(tmp_path / "src", slices), out), key=lambda r: r["output"])
    profiles = [np.asarray(nib.load(out / r["output"]).get_fdata())[0, 0].tolist() for r in rows]
    assert profiles == [[100 * (t + 1) + z for z in range(4)] for t in range(3)]
    assert {r["problems"] for r in rows} == {""}  # told apart by the standard's index
