"""Reproduction 12 end to end: an anisotropic MR series (0.5 mm pixels, slices 4 mm apart)
converted, read as `unit: series` samples, and scored: distances in mm from the DICOM
geometry, never voxels labelled mm."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from pipeline.data import ManifestDataset
from workflows.convert.batch import convert_folder
from workflows.convert.tasks import ConvertOptions
from workflows.report.results import SegmentationCase, evaluate_segmentation

D, H, W = 6, 32, 32


def _write_series(folder: Path, patient: int) -> list[tuple[str, np.ndarray]]:
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    yy, xx = np.mgrid[:H, :W]
    masks = []
    for k in range(D):
        lesion = ((yy - 16) ** 2 + (xx - 15) ** 2 <= 25) & (1 <= k <= D - 2)
        sop = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = MRImageStorage, sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, sop
        ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = f"ANISO{patient}", study, series
        ds.FrameOfReferenceUID, ds.Modality = frame, "MR"
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, 4.0 * k]
        ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 4.0
        ds.Rows, ds.Columns, ds.SamplesPerPixel = H, W, 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = (200 + 600 * lesion).astype("<u2").tobytes()
        ds.save_as(folder / f"p{patient}_s{k}.dcm", enforce_file_format=True)
        masks.append((sop, lesion.astype(np.uint8)))
    return masks


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_series_samples_carry_their_slice_spacing_into_distances(tmp_path: Path) -> None:
    from PIL import Image

    dicom = tmp_path / "dicom"
    dicom.mkdir()
    (tmp_path / "masks").mkdir()
    rows = []
    for p in range(2):
        for sop, mask in _write_series(dicom, p):
            Image.fromarray(mask).save(tmp_path / "masks" / f"{sop}.png")
            rows.append((sop, 0, f"masks/{sop}.png"))
    with (tmp_path / "masks.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([("sop_instance_uid", "frame", "mask"), *rows])
    out = tmp_path / "converted"
    convert_folder(dicom, out, ConvertOptions(format="npy", per="instance", workers=1),
                   progress=False)  # fmt: skip
    dataset = ManifestDataset(out, mode="series", masks=tmp_path / "masks.csv")
    cases = []
    for i in range(len(dataset)):
        s = dataset.sample(i)
        assert s.meta["spacing"] == pytest.approx((4.0, 0.5, 0.5))  # (z, y, x) from DICOM
        pred = np.roll(s.mask, 1, axis=2)  # one 0.5 mm column off in-plane
        cases.append(SegmentationCase(s.id, s.mask, pred, s.meta["spacing"],
                                      s.meta["patient_key"], s.meta["series_key"]))  # fmt: skip
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    # by hand: every surface voxel moved by one column = 0.5 mm (not 1.0 "mm" in voxels)
    assert m["distance_unit"] == "mm" and m["summary"]["hd95_mean"] == pytest.approx(0.5)
    assert m["num_cases"] == 2 and m["num_patients"] == 2
