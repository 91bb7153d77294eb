"""Write a synthetic multi-patient DICOM study with ground truth beside it.

Layout of ``OUT``::

    dicom/<study folder>/<random name>.dcm   all series of a study mixed, names shuffled
    labels.csv                               patient_id, study_uid, series_uid, label, class_name
    masks/<n>.png + masks.csv                segmentation only: one mask per image
    synth.json                               the parameters used

Files carry realistic headers: UIDs, geometry (ImagePositionPatient/Orientation, spacing),
RescaleSlope/Intercept (CT in HU, 12-bit unsigned or 16-bit signed storage), multi-valued
WindowCenter/Width, MONOCHROME1 for some CR. The order of slices can only be recovered from
the headers. US images are 8-bit fetal head B-mode scans (:mod:`pipeline.synth.ultrasound`)
calibrated by a Sequence of Ultrasound Regions (PS3.3 C.8.5.5), without PixelSpacing or
patient geometry, as scanners write them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from pipeline.errors import ConfigError
from pipeline.io_atomic import atomic_path, atomic_write_text
from pipeline.synth.phantoms import CLASS_NAMES, MASK_CLASSES, Modality, Phantom, make_phantom
from pipeline.synth.ultrasound import US_CLASS_NAMES, US_MASK_CLASSES, make_us_head

Task = Literal["classification", "segmentation"]

_SOP_CLASS = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "MR": "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "CR": "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "US": "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
}
_PROJECTION = ("CR", "US")  # one image per series
# Row and column direction cosines: CT axial, MR coronal (normal along +y, not z), CR none.
_ORIENTATION = {"CT": (1, 0, 0, 0, 1, 0), "MR": (1, 0, 0, 0, 0, -1)}


@dataclass(frozen=True)
class StudySpec:
    """What to generate. ``slices`` is ignored for CR and US (one image per series).

    US studies are fetal heads (two classes by head size; masks 0 background, 1 head).
    """

    patients: int = 12
    task: Task = "classification"
    modality: Modality = "CT"
    seed: int = 0
    size: int = 64
    slices: int = 12
    series_per_patient: int = 2
    num_classes: int = 2

    def __post_init__(self) -> None:
        if self.patients < 1:
            raise ValueError(f"patients must be >= 1; got {self.patients}.")
        if not 2 <= self.num_classes <= len(CLASS_NAMES):
            raise ValueError(f"num_classes must be 2 or 3; got {self.num_classes}.")
        if self.modality == "US" and self.num_classes != 2:
            raise ValueError(
                f"num_classes must be 2 for US (small / large fetal head); got {self.num_classes}."
            )
        if self.size < 16:
            raise ValueError(f"size must be >= 16; got {self.size}.")
        if self.slices < 1 or self.series_per_patient < 1:
            raise ValueError("slices and series_per_patient must be >= 1.")


def write_study(out: str | Path, spec: StudySpec) -> dict[str, int]:
    """Generate the study described by ``spec`` under ``out``; returns counts written.

    The same spec (seed included) gives byte-identical pixel data and the same UIDs. Raises
    ``ConfigError`` when ``out`` holds a study of another spec (or of none known).
    """
    out = Path(out)
    _start(out, spec)
    rng = np.random.default_rng(spec.seed)
    labels_rows: list[dict[str, object]] = []
    mask_rows: list[dict[str, object]] = []
    n_files = 0
    # Balanced classes over patients, in random order.
    classes = np.resize(np.arange(spec.num_classes), spec.patients)
    rng.shuffle(classes)
    for p in range(spec.patients):
        patient = _patient_dataset(spec, p)
        study_dir = out / "dicom" / f"study_{rng.integers(16**6):06x}"
        for s in range(spec.series_per_patient):
            label = int(classes[p])
            phantom = _phantom(spec, rng, label)
            if spec.modality == "US":
                label = phantom.label
            elif spec.task == "segmentation":
                label = int(bool((phantom.mask == 2).any()))
            series = _series_dataset(spec, patient, p, s)
            geometry = _SeriesGeometry.draw(spec, rng)
            for k, ds in enumerate(_instances(spec, series, geometry, phantom)):
                name = f"{rng.integers(16**8):08x}.dcm"
                with atomic_path(study_dir / name) as tmp:
                    ds.save_as(tmp, enforce_file_format=True)
                n_files += 1
                if spec.task == "segmentation":
                    rel = Path("masks") / f"{ds.SOPInstanceUID}.png"
                    with atomic_path(out / rel) as tmp:
                        Image.fromarray(phantom.mask[k]).save(tmp)
                    mask_rows.append(
                        {
                            "patient_id": patient.PatientID,
                            "series_uid": series.SeriesInstanceUID,
                            "sop_instance_uid": ds.SOPInstanceUID,
                            "frame": 0,
                            "mask": rel.as_posix(),
                        }
                    )
            names = _class_names(spec)
            labels_rows.append(
                {
                    "patient_id": patient.PatientID,
                    "study_uid": series.StudyInstanceUID,
                    "series_uid": series.SeriesInstanceUID,
                    "label": label,
                    "class_name": names[label],
                }
            )
    _write_csv(out / "labels.csv", labels_rows)
    if mask_rows:
        _write_csv(out / "masks.csv", mask_rows)
    info = {
        **asdict(spec),
        "files": n_files,
        "series": len(labels_rows),
        "class_names": list(_class_names(spec)),
        "mask_classes": list(US_MASK_CLASSES if spec.modality == "US" else MASK_CLASSES),
    }
    atomic_write_text(out / "synth.json", json.dumps(info, indent=2))
    return {"files": n_files, "series": len(labels_rows), "patients": spec.patients}


def _phantom(spec: StudySpec, rng: np.random.Generator, label: int) -> Phantom:
    """One series' phantom: a fetal head for US, else the body phantom of class ``label``."""
    if spec.modality == "US":
        return make_us_head(rng, size=spec.size)
    lesion = None if spec.task == "classification" else bool(rng.random() < 0.75)
    slices = 1 if spec.modality in _PROJECTION else spec.slices
    return make_phantom(
        rng, modality=spec.modality, size=spec.size, slices=slices, label=label, lesion=lesion
    )


def _class_names(spec: StudySpec) -> tuple[str, ...]:
    """The names of ``labels.csv``'s labels 0, 1 (and 2)."""
    if spec.modality == "US":
        return US_CLASS_NAMES
    if spec.task == "classification":
        return CLASS_NAMES[: spec.num_classes]
    return ("no_lesion", "lesion")


_WRITTEN = ("dicom", "masks", "labels.csv", "masks.csv", "synth.json")


def study_complete(out: str | Path) -> bool:
    """Whether ``out`` holds a study that :func:`write_study` finished (not interrupted)."""
    try:
        return "files" in json.loads((Path(out) / "synth.json").read_text())
    except (OSError, ValueError, TypeError):
        return False


def _start(out: Path, spec: StudySpec) -> None:
    """Refuse a folder holding a study of another spec; then write the spec first.

    The same spec rewrites its own study, and, the spec being written first, finishes an
    interrupted one.
    """
    found = [name for name in _WRITTEN if (out / name).exists()]
    if not found:
        return
    try:
        stored = json.loads((out / "synth.json").read_text())
    except (OSError, ValueError):
        stored = {}
    same = isinstance(stored, dict) and all(stored.get(k) == v for k, v in asdict(spec).items())
    if not same:
        raise ConfigError(
            f"{out} already holds a study ({', '.join(found)}): another written into it "
            "would lie mixed with it in dicom/ (series of both, labels.csv of the new one "
            "only); choose a new folder, or remove this one first."
        )
    atomic_write_text(out / "synth.json", json.dumps(asdict(spec), indent=2))


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _uid(spec: StudySpec, *parts: object) -> str:
    # Deterministic UIDs: the same spec gives the same UIDs on every run.
    return str(
        generate_uid(entropy_srcs=[str(spec.seed), spec.modality, spec.task, *map(str, parts)])
    )


def _patient_dataset(spec: StudySpec, p: int) -> Dataset:
    ds = Dataset()
    ds.PatientName = f"Synthetic^Patient{p:04d}"
    ds.PatientID = f"SYN{spec.modality}{p:04d}"
    ds.PatientBirthDate = f"{1940 + (p * 7) % 50}0101"
    ds.PatientSex = "MF"[p % 2]
    ds.StudyInstanceUID = _uid(spec, "study", p)
    ds.StudyDate = "20260101"
    ds.StudyTime = "120000"
    ds.StudyID = f"{p + 1}"
    ds.AccessionNumber = f"ACC{p:06d}"
    ds.ReferringPhysicianName = ""
    return ds


@dataclass(frozen=True)
class _SeriesGeometry:
    spacing: float  # in-plane, mm
    slice_spacing: float  # mm
    variant: int  # storage variant (CT: 12-bit unsigned or 16-bit signed; CR: MONOCHROME1)
    descending: bool  # InstanceNumber runs against the slice normal

    @classmethod
    def draw(cls, spec: StudySpec, rng: np.random.Generator) -> _SeriesGeometry:
        # Field of view in mm: a body, a chest radiograph, an ultrasound depth of 12-18 cm.
        # One draw for US, CT and MR, none for CR: a study of a seed stays what it was.
        if spec.modality == "CR":
            fov = 350.0
        else:
            fov = float(rng.uniform(120, 180) if spec.modality == "US" else rng.uniform(300, 380))
        return cls(
            spacing=round(fov / spec.size, 4),
            slice_spacing=float(rng.choice([2.5, 3.0, 5.0])),
            variant=int(rng.integers(2)),
            descending=bool(rng.integers(2)),
        )


def _series_dataset(spec: StudySpec, patient: Dataset, p: int, s: int) -> Dataset:
    ds = Dataset()
    ds.update(patient)
    ds.SeriesInstanceUID = _uid(spec, "series", p, s)
    ds.SeriesNumber = s + 1
    ds.Modality = spec.modality
    ds.SeriesDescription = {"CT": "CHEST", "MR": "COR T2", "CR": "CHEST PA", "US": "FETAL HEAD"}[
        spec.modality
    ]
    if spec.modality != "US":  # no patient geometry in a B-mode image
        ds.FrameOfReferenceUID = _uid(spec, "for", p)
    ds.Manufacturer = "radpipe synthetic"
    return ds


def _instances(
    spec: StudySpec, series: Dataset, geometry: _SeriesGeometry, phantom: Phantom
) -> list[Dataset]:
    out = []
    n = phantom.image.shape[0]
    for k in range(n):
        ds = _image_header(spec, series, geometry, k)
        _set_pixels(spec, ds, phantom.image[k], geometry.variant)
        ds.InstanceNumber = n - k if geometry.descending else k + 1
        out.append(ds)
    return out


def _image_header(spec: StudySpec, series: Dataset, geometry: _SeriesGeometry, k: int) -> Dataset:
    ds = Dataset()
    for elem in series:
        ds.add(elem)
    sop_class = _SOP_CLASS[spec.modality]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = UID(_uid(spec, "sop", series.SeriesInstanceUID, k))
    ds.ImageType = [
        "ORIGINAL",
        "PRIMARY",
        {"CT": "AXIAL", "US": "ABDOMINAL"}.get(spec.modality, "OTHER"),
    ]
    ds.Rows = ds.Columns = spec.size
    spacing = geometry.spacing
    if spec.modality == "US":
        ds.SequenceOfUltrasoundRegions = [_us_region(spec.size, spacing)]
    else:
        ds.PixelSpacing = [spacing, spacing]
    if spec.modality in _ORIENTATION:
        iop = np.array(_ORIENTATION[spec.modality], float)
        normal = np.cross(iop[:3], iop[3:])
        step = geometry.slice_spacing
        origin = -(spec.size / 2) * spacing * (iop[:3] + iop[3:]) + np.array([0, 0, 100.0])
        pos = origin + normal * step * k
        ds.ImageOrientationPatient = [f"{v:g}" for v in iop]
        ds.ImagePositionPatient = [f"{v:.4f}" for v in pos]
        ds.SliceThickness = step
        ds.SliceLocation = f"{float(pos @ normal):.4f}"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(ds.SOPInstanceUID)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def _us_region(size: int, spacing: float) -> Dataset:
    """One 2-D tissue region over the whole image, calibrated in cm (PS3.3 C.8.5.5.1)."""
    region = Dataset()
    region.RegionSpatialFormat = 1  # 2-D
    region.RegionDataType = 1  # tissue
    region.RegionFlags = 0
    region.RegionLocationMinX0 = region.RegionLocationMinY0 = 0
    region.RegionLocationMaxX1 = region.RegionLocationMaxY1 = size - 1
    region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3  # cm
    region.PhysicalDeltaX = region.PhysicalDeltaY = round(spacing / 10.0, 6)
    return region


def _set_pixels(spec: StudySpec, ds: Dataset, values: np.ndarray, variant: int) -> None:
    """Store physical ``values`` as the modality would, with a matching modality LUT."""
    ds.SamplesPerPixel = 1
    if spec.modality == "US":  # 8-bit display values, no modality or VOI LUT
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelData = np.clip(np.rint(values), 0, 255).astype(np.uint8).tobytes()
        return
    ds.BitsAllocated = 16
    ds.PhotometricInterpretation = "MONOCHROME2"
    if spec.modality == "CT":
        if variant == 0:  # 12-bit unsigned, intercept -1024 (common on older scanners)
            slope, intercept, bits, signed = 1.0, -1024.0, 12, False
        else:  # 16-bit signed, HU stored directly
            slope, intercept, bits, signed = 1.0, 0.0, 16, True
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = slope, intercept, "HU"
        ds.WindowCenter = [40, -600]
        ds.WindowWidth = [400, 1500]
        ds.WindowCenterWidthExplanation = ["MEDIASTINUM", "LUNG"]
        stored = np.rint((values - intercept) / slope)
    elif spec.modality == "MR":  # no modality LUT tags at all: identity
        bits, signed = 12, False
        ds.WindowCenter, ds.WindowWidth = 800, 1600
        stored = np.rint(values)
    else:  # CR: 12-bit; half of the series MONOCHROME1 (minimum displayed white)
        bits, signed = 12, False
        ds.WindowCenter, ds.WindowWidth = 2048, 4096
        ds.ImagerPixelSpacing = ds.PixelSpacing
        ds.PixelSpacingCalibrationType = "GEOMETRY"  # at the patient (no magnification note)
        stored = np.rint(values)
        if variant == 1:
            ds.PhotometricInterpretation = "MONOCHROME1"
            stored = (2**bits - 1) - stored
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    stored = np.clip(stored, lo, hi).astype(np.int16 if signed else np.uint16)
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, int(signed)
    ds.PixelData = stored.tobytes()
