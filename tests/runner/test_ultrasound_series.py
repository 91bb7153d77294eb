"""Ultrasound series as a PACS exports them: several 2-D pictures of one patient in one series,
without ImagePositionPatient/ImageOrientationPatient (the US Image IOD has no plane geometry),
with PixelSpacing. They are not slices of a volume: segmentation is scored per image, with
distances in mm; ``radpipe evaluate`` needs no ``--labels`` for a segmentation run; a labels
CSV without the label column is refused naming the user's file."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.runner.conftest import read_json, read_rows
from workflows.cli import main

US = "1.2.840.10008.5.1.4.1.1.6.1"  # Ultrasound Image Storage
SIZE, SPACING = 24, 0.25  # pixels, mm


def _us_image(path: Path, pixels: np.ndarray, patient: str, series: str) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = US, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = US, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.PatientName = "US", patient, f"DOE^{patient}"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), series
    ds.SeriesNumber, ds.InstanceNumber = 1, int(path.stem[-1]) + 1
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelSpacing = [SPACING, SPACING]
    ds.PixelData = pixels.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture(scope="module")
def us_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 patients x one series of 2 head-like ellipses (different sizes: other planes);
    masks.csv keyed by file, 0/255 PNGs."""
    root = tmp_path_factory.mktemp("us")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    rows = []
    for p in range(12):
        series = generate_uid()
        for k in range(2):
            r = 4 + 3 * k + int(rng.integers(0, 2))
            head = ((yy - 12) / r) ** 2 + ((xx - 12) / (r + 2)) ** 2 <= 1
            pixels = np.where(head, 170, 40) + rng.integers(0, 30, head.shape)
            rel = f"P{p:02d}/im{k}.dcm"
            _us_image(root / "dicom" / rel, pixels, f"US{p:02d}", series)
            mask = root / "masks" / f"P{p:02d}_{k}.png"
            mask.parent.mkdir(exist_ok=True)
            Image.fromarray((head * 255).astype(np.uint8)).save(mask)
            rows.append({"file": f"dicom/{rel}", "mask": f"masks/{mask.name}"})
    with (root / "masks.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["file", "mask"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def _config(study: Path, out: Path) -> Path:
    config = {
        "name": "us", "task": "segmentation", "output": str(out / "runs"),
        "data": {"source": str(study / "dicom"), "masks": str(study / "masks.csv"),
                 "class_names": ["background", "head"]},
        "convert": {"workers": 1, "window": "none"},
        "split": {"test": 0.34, "val": 0.17},
        "preprocess": [{"type": "z_score", "mode": "image"}],
        "model": {"type": "mlp_segmenter", "patch_size": 3, "hidden": [8], "context": 4},
        "train": {"epochs": 1, "batch_size": 8, "device": "cpu"},
        "evaluate": {"bootstrap": 0, "explain": 0},
        "report": {"enabled": False},
    }  # fmt: skip
    path = out / "us.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def us_run(us_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("us_runs")
    assert main(["run", str(_config(us_study, out)), "--quiet"]) == 0
    return next((out / "runs").glob("us-*"))


def test_ultrasound_pictures_of_one_series_are_scored_one_by_one_in_mm(us_run: Path) -> None:
    split = read_rows(us_run / "split.csv")
    test_series = {r["series_key"] for r in split if r["split"] == "test"}
    index = read_rows(us_run / "index.csv")
    test_images = {r["instance_key"] for r in index if r["series_key"] in test_series}
    assert len(test_images) == 2 * len(test_series) > 0
    metrics = read_json(us_run / "metrics.json")
    # each picture its own case (not the series stacked into a fake volume), grouped by patient
    assert {c["id"] for c in metrics["per_case"]} == {f"{k}" for k in test_images}
    assert metrics["num_cases"] == len(test_images)
    assert metrics["num_patients"] == len(test_series)  # one series per patient here
    assert metrics["policy"]["case_unit"].startswith("image (each 2-D image is its own case)")
    assert metrics["num_slices"] == 0  # nothing was stacked
    # PixelSpacing is known for every picture: distances in mm, the diagonal of 24x24 px
    assert metrics["distance_unit"] == "mm"
    for case in metrics["per_case"]:
        assert case["diagonal"] == pytest.approx(np.hypot(SIZE, SIZE) * SPACING)


def test_evaluate_a_segmentation_run_without_labels(
    us_run: Path, us_study: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ext"
    args = ["evaluate", str(us_run), str(us_study / "dicom"), "--masks",
            str(us_study / "masks.csv"), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    assert read_json(out / "metrics.json")["num_cases"] == 24


def test_a_labels_csv_without_the_label_column_is_refused_naming_the_users_file(
    us_run: Path, us_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A segmentation's labels (for stratifying) need data.label_column too; the message
    names the CSV the user gave, not radpipe's resolved copy (truth/labels.csv)."""
    masks = str(us_study / "masks.csv")
    args = ["evaluate", str(us_run), str(us_study / "dicom"), "--masks", masks, "--labels",
            masks, "--out", str(tmp_path / "ext"), "--quiet"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "data.label_column 'label' is not a column of masks.csv (columns: file, mask)" in err
    config = _config(us_study, tmp_path)
    assert main(["run", str(config), "--set", f"data.labels={masks}", "--quiet"]) == 2
    assert "is not a column of masks.csv" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("us-*"))


def test_masks_of_another_size_are_listed_before_anything_is_split(
    us_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Masks saved at another size (resized with nearest neighbour: values still 0/255) are
    refused together, each with its image's source file and both sizes, and no run
    directory is left behind."""
    import shutil

    study = tmp_path / "study"
    shutil.copytree(us_study, study)
    for name, size in (("P03_1.png", (12, 12)), ("P07_0.png", (24, 30))):
        mask = Image.open(study / "masks" / name)
        mask.resize(size, Image.Resampling.NEAREST).save(study / "masks" / name)
    assert main(["run", str(_config(study, tmp_path)), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert (
        "masks.csv: 2 of 24 masks are not the size of their image (rows x columns; a mask is "
        "drawn on its image's own pixels: not resized, not cropped, not for another image):\n"
        "  masks/P03_1.png is 12x12, its image P03/im1.dcm frame 0 24x24\n"  # as the CSV
        "  masks/P07_0.png is 30x24, its image P07/im0.dcm frame 0 24x24"  # names them
    ) in err
    assert not list((tmp_path / "runs").glob("us-*"))


def test_predict_writes_a_dicom_seg_for_every_ultrasound_image(
    us_run: Path, us_study: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """highdicom takes several frames only within a frame of reference; a US series has none,
    so each image gets its own SEG (named by series and instance key), which holds the same
    mask as the PNG and references that image."""
    import pydicom

    out = tmp_path / "pred"
    assert main(["predict", str(us_run), str(us_study / "dicom"), "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    assert "no DICOM SEG" not in caplog.text
    rows = {r["instance_key"]: r for r in read_rows(out / "predictions.csv")}
    segs = sorted((out / "seg").rglob("*.dcm"))
    assert len(segs) == len(rows) == 24
    uids = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p
            for p in (us_study / "dicom").rglob("*.dcm")}  # fmt: skip
    for path in segs:
        seg = pydicom.dcmread(path)
        (frame,) = seg.PerFrameFunctionalGroupsSequence
        ref = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        row = next(r for r in rows.values() if r["source"] ==
                   uids[ref].relative_to(us_study / "dicom").as_posix())  # fmt: skip
        assert path.name == f"{row['series_key']}_{row['instance_key']}.dcm"
        png = np.asarray(Image.open(out / row["mask"])) == 1
        np.testing.assert_array_equal(seg.pixel_array.astype(bool), png)
