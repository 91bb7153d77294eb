"""Co-located frames of an Enhanced MR object told apart by their functional groups.

Multi-echo, diffusion and cardiac frames keep their echo time, b-value or trigger delay in
per-frame groups (MREchoSequence, MRDiffusionSequence, CardiacSynchronizationSequence), not
at the top level, and need not be stored in that order (Philips 4-D data, dcm2niix #372;
horos #467; two echoes assigned at random, MRtrix3 PR #2346; dicomsort #29). They were told
apart by file order only: a slice whose second echo came first put it in the first echo's
volume, silently but for an 'acquisition order' note.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main


def _item(**values: object) -> Dataset:
    item = Dataset()
    for key, value in values.items():
        setattr(item, key, value)
    return item


def _frame_group(kind: str, stack: int) -> Dataset:
    if kind == "echo":
        return _item(MREchoSequence=Sequence([_item(EffectiveEchoTime=10.0 * (stack + 1))]))
    if kind == "diffusion":
        return _item(MRDiffusionSequence=Sequence([_item(DiffusionBValue=1000.0 * stack)]))
    delay = _item(NominalCardiacTriggerDelayTime=100.0 * stack)
    return _item(CardiacSynchronizationSequence=Sequence([delay]))


@pytest.mark.parametrize("kind", ["echo", "diffusion", "cardiac"])
def test_frames_of_one_position_split_by_their_group_values(tmp_path: Path, kind: str) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    # slice s of stack e holds 100 (e + 1) + s; slice 1 stores stack 1 before stack 0
    order = [(0, 0), (0, 1), (1, 1), (1, 0), (2, 0), (2, 1)]
    ds.NumberOfFrames = len(order)
    ds.PixelData = np.stack([np.full((4, 4), 100 * (e + 1) + s, "<u2") for s, e in order]).tobytes()
    frames = []
    for s, e in order:
        group = _frame_group(kind, e)
        group.PlanePositionSequence = Sequence([_item(ImagePositionPatient=[0, 0, 2.0 * s])])
        frames.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    plane = _item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
    measures = _item(PixelSpacing=[1, 1], SliceThickness=2)
    ds.SharedFunctionalGroupsSequence = Sequence(
        [
            _item(
                PlaneOrientationSequence=Sequence([plane]),
                PixelMeasuresSequence=Sequence([measures]),
            )
        ]
    )
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert len(rows) == 2 and all(r["problems"] == "" for r in rows)  # no order-only note
    for e, row in enumerate(rows):  # _s00 the first echo / b 0 / delay 0, _s01 the second
        volume = np.asarray(nib.load(out / row["output"]).dataobj)
        assert volume[0, 0].tolist() == [100 * (e + 1) + s for s in range(3)]


@pytest.mark.parametrize("numbered", [True, False])
def test_echoes_are_separate_volumes_not_time_points(tmp_path: Path, numbered: bool) -> None:
    # classic multi-echo files with a RepetitionTime became one 4-D NIfTI whose 4th zoom said
    # the echoes were 2 s apart in time; dcm2niix writes one volume per echo (_e1, _e2).
    # Without EchoNumbers (Siemens XA classic, dcm2niix #568) only EchoTime tells them apart:
    # they were 'time points by acquisition order', a problem, and 4-D as well
    (tmp_path / "src").mkdir()
    series = "1.2.3.4.5"
    for s in range(3):
        for e in range(2):
            ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", series, "P"
            ds.ImageOrientationPatient, ds.ImagePositionPatient = (
                [1, 0, 0, 0, 1, 0],
                [0, 0, 2.0 * s],
            )
            ds.PixelSpacing, ds.RepetitionTime = [1, 1], 2000
            if numbered:
                ds.EchoNumbers = e + 1
            ds.EchoTime = 10.0 * (e + 1)
            ds.PixelData = np.full((4, 4), 100 * (e + 1) + s, "<u2").tobytes()
            ds.save_as(tmp_path / "src" / f"{s}_{e}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["shape"] for r in rows] == ["3x4x4", "3x4x4"]
    assert all(r["problems"] == "" for r in rows)
    for e, row in enumerate(rows):
        image = nib.load(out / row["output"])
        assert image.shape == (4, 4, 3)
        assert np.asarray(image.dataobj)[0, 0].tolist() == [100 * (e + 1) + s for s in range(3)]


_PHASE = {
    "siemens": (["ORIGINAL", "PRIMARY", "M", "ND"], ["ORIGINAL", "PRIMARY", "P", "ND"]),
    "philips": (
        ["ORIGINAL", "PRIMARY", "M_FFE", "M", "FFE"],
        ["ORIGINAL", "PRIMARY", "PHASE MAP", "P", "FFE"],
    ),
}


@pytest.mark.parametrize("vendor", ["siemens", "philips", "enhanced"])
def test_magnitude_and_phase_are_separate_volumes(tmp_path: Path, vendor: str) -> None:
    # magnitude and phase images of one series at the same positions (dcm2niix #194: two
    # volumes in one NIfTI, which is which?) were 'time points by acquisition order': a 4-D
    # NIfTI with the TR as their time step, mixed where a phase image came first
    (tmp_path / "src").mkdir()
    if vendor == "enhanced":
        ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
        order = [(0, 0), (0, 1), (1, 1), (1, 0), (2, 0), (2, 1)]
        ds.NumberOfFrames, ds.RepetitionTime = len(order), 2000
        ds.PixelData = np.stack(
            [np.full((4, 4), 100 * (c + 1) + s, "<u2") for s, c in order]
        ).tobytes()
        ds.PerFrameFunctionalGroupsSequence = Sequence(
            _item(
                PlanePositionSequence=Sequence([_item(ImagePositionPatient=[0, 0, 2.0 * s])]),
                MRImageFrameTypeSequence=Sequence(
                    [_item(ComplexImageComponent=("MAGNITUDE", "PHASE")[c])]
                ),
            )
            for s, c in order
        )
        plane = _item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
        measures = _item(PixelSpacing=[1, 1], SliceThickness=2)
        ds.SharedFunctionalGroupsSequence = Sequence(
            [
                _item(
                    PlaneOrientationSequence=Sequence([plane]),
                    PixelMeasuresSequence=Sequence([measures]),
                )
            ]
        )
        ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    for s in range(3) if vendor != "enhanced" else ():
        for c, image_type in enumerate(_PHASE[vendor]):
            ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", "1.2.3.4", "P"
            ds.ImageOrientationPatient, ds.ImagePositionPatient = (
                [1, 0, 0, 0, 1, 0],
                [0, 0, 2.0 * s],
            )
            ds.PixelSpacing, ds.RepetitionTime, ds.ImageType = [1, 1], 2000, image_type
            ds.InstanceNumber = 2 * s + (1 - c if s == 1 else c)  # slice 1: phase numbered first
            ds.PixelData = np.full((4, 4), 100 * (c + 1) + s, "<u2").tobytes()
            ds.save_as(tmp_path / "src" / f"{s}_{c}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["shape"] for r in rows] == ["3x4x4", "3x4x4"]
    assert all(r["problems"] == "" for r in rows)
    for c, row in enumerate(rows):  # _s00 magnitude, _s01 phase
        volume = np.asarray(nib.load(out / row["output"]).dataobj)
        assert volume[0, 0].tolist() == [100 * (c + 1) + s for s in range(3)]
