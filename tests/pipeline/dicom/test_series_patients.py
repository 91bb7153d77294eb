"""A SeriesInstanceUID holding images of two PatientIDs (merged or re-identified exports;
dcm4chee-arc-light #4508 refuses such objects): radpipe stacked them as one volume filed under
the first patient, so a patient-level split could leak the second patient's images.

Now ``convert --per series`` refuses the series naming the reason, per instance each image
keeps its own patient key with the refusal in ``problems``, a run refuses to split it and the
series-mode dataset refuses to stack images that are in no volume.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pipeline.data.datasets import ManifestDataset
from pipeline.data.io import read_manifest
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from workflows.cli import main
from workflows.run.windows import usable_series_rows


def _slice(series: str, study: str, patient: str, z: float, orientation: list[float]) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = patient, study, series
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, int(z) + 1
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 4, 5, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, z], orientation
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 1.0
    ds.PixelData = (np.arange(20, dtype="<i2") + int(z)).tobytes()
    return ds


def _series(src: Path, patients: list[str], orientation: list[float] | None = None) -> None:
    series, study = generate_uid(), generate_uid()
    src.mkdir(parents=True)
    for z, patient in enumerate(patients):
        ds = _slice(series, study, patient, float(z), orientation or [1, 0, 0, 0, 1, 0])
        ds.save_as(src / f"{z}.dcm", enforce_file_format=True)


def test_series_of_two_patients_is_refused_per_series(tmp_path: Path) -> None:
    _series(tmp_path / "src", ["P1", "P1", "P2", "P2"])
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 1
    assert read_manifest(out / "manifest.csv") == []
    with open(out / "errors.csv", newline="") as f:
        reasons = {r["source"]: r["reason"] for r in csv.DictReader(f)}
    assert "2 PatientID values in one SeriesInstanceUID" in reasons["0.dcm"]
    assert not list(out.rglob("*.nii.gz"))


def test_per_instance_rows_keep_their_patient_and_cannot_be_split(tmp_path: Path) -> None:
    _series(tmp_path / "src", ["P1", "P1", "P2", "P2"])
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "npy", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["source"])
    assert [r["patient_key"] for r in rows] == [hash_key("P1")] * 2 + [hash_key("P2")] * 2
    assert all(r["volume"] == "" for r in rows)
    assert all("refused: 2 PatientID values" in r["problems"] for r in rows)
    with pytest.raises(RadpipeError, match="several patients"):
        usable_series_rows(rows, "image")
    with pytest.raises(RadpipeError, match="4 images in no volume"):
        ManifestDataset(out, mode="series")
    assert len(ManifestDataset(out, mode="image")) == 4


def test_series_mode_leaves_out_a_refused_series(tmp_path: Path) -> None:
    # row . column = 0.2: refused per series (no volume geometry), written per instance
    _series(tmp_path / "src" / "bad", ["P1"] * 3, [1, 0, 0, 0.2, 0.98, 0])
    _series(tmp_path / "src" / "good", ["P1"] * 3)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "npy", "--quiet"]) == 0
    rows = read_manifest(out / "manifest.csv")
    bad = {r["series_key"] for r in rows if r["source"].startswith("bad")}
    good = {r["series_key"] for r in rows if r["source"].startswith("good")}
    kept = usable_series_rows(rows, "series")
    assert {r["series_key"] for r in kept} == good
    assert len(usable_series_rows(rows, "image")) == 6
    stacked = ManifestDataset(out, mode="series", series_keys=good)
    assert stacked[0]["image"].shape == (1, 3, 4, 5)
    # slices in position order: stored values 0..19 plus z
    assert np.array_equal(stacked[0]["image"][0, :, 0, 0].numpy(), [0.0, 1.0, 2.0])
    assert bad and bad.isdisjoint(good)


def test_a_run_refuses_to_split_a_series_of_two_patients(tmp_path: Path) -> None:
    from workflows.run.config import validate_config
    from workflows.run.study import prepare_study

    src = tmp_path / "dicom"
    _series(src / "mixed", ["P1", "P2"])
    _series(src / "plain", ["P3", "P3"])
    raw = {
        "task": "classification",
        "output": str(tmp_path / "runs"),
        "data": {"source": str(src), "unit": "image"},
        "convert": {"workers": 1},
        "model": {"type": "mlp_classifier", "hidden": [8]},
        "report": {"enabled": False},
    }
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError, match="1 series hold images of several patients") as err:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    # named by its first file relative to data.source (a key alone cannot be found)
    assert "place them: mixed/0.dcm (series " in str(err.value)


def test_series_across_two_studies_is_kept_and_said(tmp_path: Path) -> None:
    """One patient, one SeriesInstanceUID, two StudyInstanceUIDs (a de-identification that
    rewrote one UID per file): one volume of the 4 slices, and the note in its problems."""
    src, series, studies = tmp_path / "src", generate_uid(), [generate_uid(), generate_uid()]
    src.mkdir()
    for z in range(4):
        ds = _slice(series, studies[z % 2], "P1", float(z), [1, 0, 0, 0, 1, 0])
        ds.save_as(src / f"{z}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["num_slices"] == 4
    said = "2 StudyInstanceUID values in one SeriesInstanceUID (a series belongs to one study)"
    assert said in row["problems"]


def test_series_across_two_frames_of_reference_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each series has one Frame of Reference (PS3.3 C.7.4.1.1.1; positions in different ones
    are not comparable, highdicom #364): one naming two was stacked by position, nothing said."""
    src, series, study = tmp_path / "src", generate_uid(), generate_uid()
    frames_of_reference = [generate_uid(), generate_uid()]
    src.mkdir()
    for z in range(4):
        ds = _slice(series, study, "P1", float(z), [1, 0, 0, 0, 1, 0])
        ds.FrameOfReferenceUID = frames_of_reference[z // 2]
        ds.save_as(src / f"{z}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["num_slices"] == 4
    assert "2 FrameOfReferenceUID values in one SeriesInstanceUID" in row["problems"]
    capsys.readouterr()
    main(["inspect", str(src)])  # inspect names it too (the same assembly on the headers)
    shown = capsys.readouterr()
    assert "2 FrameOfReferenceUID values" in shown.out + shown.err
