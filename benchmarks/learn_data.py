"""Real data wrapped as a user's DICOM archive, for ``benchmarks/learn.py``.

- BreastMNIST (28x28 breast ultrasound, official splits): the train + val images form the
  development archive (``radpipe run`` splits it itself), the official test images a second
  archive given to ``radpipe predict``. One single-frame US image per patient.
- HC18 (fetal head ultrasound, 800x540 PNG + filled head annotations): each PNG becomes a
  single-frame US image with ``PixelSpacing`` from the CSV, ``PatientID`` = the NNN prefix
  (repeat scans of one fetus share it), and every fifth NNN group (sorted) is held out as the
  test archive, so no fetus is in both.

Nothing here is a test; the data stay outside the repository.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pipeline.io_atomic import atomic_open
from pipeline.keys import hash_key

US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"


@dataclass
class Archive:
    """A DICOM folder and what ``radpipe run`` / the scorer need to know about it."""

    dicom: Path
    labels: Path | None = None
    masks: Path | None = None
    #: series key (as in predictions.csv) -> label (classification) or mask path (segmentation)
    truth: dict[str, object] = field(default_factory=dict)


def _uid(*parts: object) -> str:
    return str(generate_uid(entropy_srcs=["radpipe-learn", *map(str, parts)]))


def write_us_image(path: Path, pixels: np.ndarray, patient: str, name: str,
                   spacing_mm: float | None = None) -> Dataset:  # fmt: skip
    """Write an 8-bit single-frame ultrasound image (MONOCHROME2) as DICOM Part 10."""
    ds = Dataset()
    ds.PatientID = patient
    ds.PatientName = patient
    ds.StudyInstanceUID = _uid("study", patient)
    ds.SeriesInstanceUID = _uid("series", name)
    ds.SOPInstanceUID = _uid("sop", name)
    ds.SOPClassUID = US_IMAGE_STORAGE
    ds.Modality = "US"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if spacing_mm is not None:
        ds.PixelSpacing = [f"{spacing_mm:.9g}", f"{spacing_mm:.9g}"]
    ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = US_IMAGE_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return ds


def _write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    """``rows`` as CSV, replaced atomically (a run started earlier may be reading it)."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(path) as fh:
        fh.write(text.getvalue().encode())
    return path


def breast_archives(npz: Path, out: Path) -> tuple[Archive, Archive, dict[str, np.ndarray]]:
    """Development (official train + val) and test archives; also the raw arrays."""
    data = dict(np.load(npz))
    names = {0: "malignant", 1: "normal_benign"}
    archives = []
    for part, splits in (("dev", ("train", "val")), ("test", ("test",))):
        root = out / f"breast_{part}"
        rows: list[dict[str, object]] = []
        truth: dict[str, object] = {}
        for split in splits:
            images, labels = data[f"{split}_images"], data[f"{split}_labels"].reshape(-1)
            for i, (img, label) in enumerate(zip(images, labels, strict=True)):
                name = f"{split}{i:04d}"
                path = root / "dicom" / f"{name}.dcm"
                ds = (
                    write_us_image(path, img, f"BR{name}", f"breast-{name}")
                    if not path.exists()
                    else None
                )
                series = ds.SeriesInstanceUID if ds else _uid("series", f"breast-{name}")
                # official: MedMNIST's own part, for ``--set 'split={column: official}'``
                rows.append({"series_uid": series, "label": int(label),
                             "class_name": names[int(label)], "official": split})  # fmt: skip
                truth[hash_key(series)] = int(label)
        labels_csv = _write_csv(root / "labels.csv", rows)
        archives.append(Archive(root / "dicom", labels=labels_csv, truth=truth))
    return archives[0], archives[1], data


def hc18_groups(folder: Path) -> dict[str, list[Path]]:
    """PNG images by NNN prefix (``083_HC.png``, ``083_2HC.png`` -> ``083``)."""
    groups: dict[str, list[Path]] = {}
    for png in sorted((folder / "training_set").glob("*HC.png")):
        groups.setdefault(png.name[:3], []).append(png)
    return groups


def hc18_archives(folder: Path, out: Path) -> tuple[Archive, Archive]:
    """Development and test archives (every fifth NNN group, sorted, is test)."""
    spacing: dict[str, float] = {}
    with next(folder.glob("*.csv")).open() as fh:
        for row in csv.DictReader(fh):
            spacing[row["filename"]] = float(row["pixel size(mm)"])
    groups = hc18_groups(folder)
    test_groups = set(sorted(groups)[::5])
    archives = {}
    for part in ("dev", "test"):
        root = out / f"hc18_{part}"
        mask_rows: list[dict[str, object]] = []
        truth: dict[str, object] = {}
        for group, pngs in groups.items():
            if (group in test_groups) != (part == "test"):
                continue
            for png in pngs:
                name = png.stem
                annotation = png.with_name(f"{name}_Annotation.png")
                path = root / "dicom" / f"{name}.dcm"
                img = np.asarray(Image.open(png).convert("L"))
                series = _uid("series", f"hc18-{name}")
                sop = _uid("sop", f"hc18-{name}")
                if not path.exists():
                    write_us_image(path, img, f"HC{group}", f"hc18-{name}", spacing[png.name])
                rel = Path("masks") / f"{name}.png"
                if not (root / rel).exists():  # written once, atomically: a run beside this
                    # one may be reading it (a rewrite in place could hand it half a file)
                    mask = (np.asarray(Image.open(annotation))[..., 0] > 0).astype(np.uint8)
                    (root / "masks").mkdir(parents=True, exist_ok=True)
                    with atomic_open(root / rel) as fh:
                        Image.fromarray(mask).save(fh, format="PNG")
                mask_rows.append(
                    {
                        "patient_id": f"HC{group}",
                        "series_uid": series,
                        "sop_instance_uid": sop,
                        "frame": 0,
                        "mask": rel.as_posix(),
                    }
                )
                truth[hash_key(series)] = root / rel
        masks_csv = _write_csv(root / "masks.csv", mask_rows)
        archives[part] = Archive(root / "dicom", masks=masks_csv, truth=truth)
    return archives["dev"], archives["test"]
