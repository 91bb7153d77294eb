"""A minimal DICOM image data set for the reading tests to build their cases on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def header_dataset(
    sop_class: str,
    modality: str,
    *,
    syntax: str = ExplicitVRLittleEndian,
    patient: str = "P1",
) -> Dataset:
    """File Meta, SOP Class and Instance, patient, study and series: a data set's identity,
    without any image module (a non-image object is this and its own elements)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = (
        patient,
        generate_uid(),
        generate_uid(),
    )
    ds.Modality = modality
    return ds


def image_dataset(
    sop_class: str,
    modality: str,
    rows: int,
    columns: int,
    *,
    bits: int = 16,
    stored: int | None = None,
    signed: bool = False,
    samples: int = 1,
    photometric: str = "MONOCHROME2",
    syntax: str = ExplicitVRLittleEndian,
    patient: str = "P1",
) -> Dataset:
    """:func:`header_dataset` and the Image Pixel module (HighBit = BitsStored - 1) without
    PixelData: each test adds what it is about."""
    ds = header_dataset(sop_class, modality, syntax=syntax, patient=patient)
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel, ds.PhotometricInterpretation = samples, photometric
    ds.BitsAllocated, ds.BitsStored = bits, stored or bits
    ds.HighBit, ds.PixelRepresentation = (stored or bits) - 1, int(signed)
    return ds


def item(**values: object) -> Dataset:
    """A sequence item (a functional group, a LUT item) with the given attributes."""
    found = Dataset()
    for key, value in values.items():
        setattr(found, key, value)
    return found


def shared_plane_groups(spacing: float = 1.0, thickness: float = 2.0) -> Sequence:
    """A Shared Functional Groups Sequence: axial orientation and square pixels."""
    plane = item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
    measures = item(PixelSpacing=[spacing, spacing], SliceThickness=thickness)
    return Sequence(
        [
            item(
                PlaneOrientationSequence=Sequence([plane]),
                PixelMeasuresSequence=Sequence([measures]),
            )
        ]
    )


def write_folder(folder: Path, **datasets: Dataset) -> Path:
    """Save each data set as ``folder/<name>.dcm`` (Part 10, with File Meta); return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, ds in datasets.items():
        ds.save_as(folder / f"{name}.dcm", enforce_file_format=True)
    return folder


def ct_series(folder: Path, stored: list[list[int]], **extra: object) -> Path:
    """A signed 4 x 4 CT series of one slice per ``stored`` (16 values each, or fewer: the
    first pixels, the rest 1024, 0 HU), 2 mm apart, PixelSpacing 1 mm, intercept -1024, with
    ``extra`` attributes on every slice; files ``s0.dcm``, ``s1.dcm``..."""
    import numpy as np

    series, study, found = generate_uid(), generate_uid(), {}
    for k, values in enumerate(stored):
        ds = image_dataset("1.2.840.10008.5.1.4.1.1.2", "CT", 4, 4, signed=True)
        ds.SeriesInstanceUID, ds.StudyInstanceUID = series, study
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 2 * k], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [1, 1], 1, -1024
        for key, value in extra.items():
            setattr(ds, key, value)
        pixels = np.full(16, 1024, "<i2")
        pixels[: len(values)] = values
        ds.PixelData = pixels.tobytes()
        found[f"s{k}"] = ds
    return write_folder(folder, **found)


def convert_one(src: Path, out: Path, *options: str) -> tuple[dict[str, str], Any]:
    """``radpipe convert SRC OUT --quiet OPTIONS`` of a folder of one image (exit 0 required):
    its manifest row and its output read back (PNG by Pillow, NPY by numpy)."""
    import numpy as np
    from PIL import Image

    from pipeline.data.io import read_manifest
    from workflows.cli import main

    assert main(["convert", str(src), str(out), "--quiet", *options]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    path = out / row["output"]
    return row, np.load(path) if path.suffix == ".npy" else np.asarray(Image.open(path))
