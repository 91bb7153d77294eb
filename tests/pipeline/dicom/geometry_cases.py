"""Synthetic DICOM series for geometry tests, and independent checks of written volumes.

The references use pydicom and numpy only (PS3.3 C.7.6.2.1.1 for voxel positions,
C.7.6.16 for enhanced per-frame groups); nothing here imports radpipe.
"""

from __future__ import annotations

import csv
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR, CT, EMR, PET = (
    "1.2.840.10008.5.1.4.1.1.4",
    "1.2.840.10008.5.1.4.1.1.2",
    "1.2.840.10008.5.1.4.1.1.4.1",
    "1.2.840.10008.5.1.4.1.1.128",
)
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
#: A linear function of LPS position, so that resampled values can be checked exactly.
GRADIENT, OFFSET = np.array([0.5, -0.25, 0.75]), 100.0


def image(pixels: np.ndarray, sop_class: str = MR, series: str = "", **attrs: Any) -> Dataset:
    """A minimal valid image: (H, W) or (F, H, W) uint16 stored values, 16 bits.

    A CT or PET image has RescaleSlope 1 and RescaleIntercept 0 unless ``attrs`` say
    otherwise (Type 1 there, PS3.3 C.8.2.1, C.8.9.4; without them a series says so)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.4", series or generate_uid()
    ds.PatientID, ds.Modality = "GEO", "CT" if sop_class == CT else "MR"
    frames = pixels if pixels.ndim == 3 else pixels[None]
    ds.Rows, ds.Columns = frames.shape[1:]
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = np.asarray(frames, dtype="<u2").tobytes()
    if sop_class in (CT, PET):
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def plane(position: Sequence[float], iop: Sequence[float] = AXIAL, size: int = 8,
          spacing: float = 1.0, value: float | None = None, series: str = "",
          sop_class: str = MR, **attrs: Any) -> Dataset:  # fmt: skip
    """One slice at ``position``; pixels hold ``value``, else :data:`GRADIENT` of their LPS
    position (stored x100, RescaleSlope 0.01, so modality values carry two decimals)."""
    if value is None:
        pixels = np.rint(100 * linear_values(position, iop, spacing, size)).astype(np.uint16)
        attrs = {"RescaleSlope": 0.01, "RescaleIntercept": 0.0, **attrs}
    else:
        pixels = np.full((size, size), value, np.uint16)
    return image(pixels, sop_class, series, ImagePositionPatient=[float(v) for v in position],
                 ImageOrientationPatient=[float(v) for v in iop],
                 PixelSpacing=[spacing, spacing], **attrs)  # fmt: skip


def linear_values(position: Sequence[float], iop: Sequence[float], spacing: float,
                  size: int) -> np.ndarray:  # fmt: skip
    """:data:`GRADIENT` . P + :data:`OFFSET` at every pixel (row, column) of a plane."""
    o = np.asarray(iop, dtype=np.float64)
    j, i = np.mgrid[0:size, 0:size]  # row j, column i
    world = (
        np.asarray(position)[None, None] + (i[..., None] * o[:3] + j[..., None] * o[3:]) * spacing
    )
    return np.asarray(world @ GRADIENT + OFFSET)


def save(folder: Path, datasets: Sequence[Dataset], names: Sequence[str] | None = None) -> Path:
    """Write datasets as ``folder/<name>.dcm`` (default: shuffled-looking names)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, ds in enumerate(datasets):
        name = names[k] if names else f"IM{(k * 7919) % 10007:05d}"
        ds.save_as(folder / f"{name}.dcm", enforce_file_format=True)
    return folder


def enhanced(positions: Sequence[Sequence[float]], stray_ipp: Sequence[float] | None = None,
             iop: Sequence[float] = AXIAL) -> Dataset:  # fmt: skip
    """An Enhanced MR object whose frame k holds 100 + k at ``positions[k]``."""
    ds = image(np.stack([np.full((8, 8), 100 + k) for k in range(len(positions))]), EMR)
    shared = Dataset()
    shared.PlaneOrientationSequence = DicomSequence([Dataset()])
    shared.PlaneOrientationSequence[0].ImageOrientationPatient = list(iop)
    shared.PixelMeasuresSequence = DicomSequence([Dataset()])
    shared.PixelMeasuresSequence[0].PixelSpacing = [1.0, 1.0]
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per = []
    for p in positions:
        item = Dataset()
        item.PlanePositionSequence = DicomSequence([Dataset()])
        item.PlanePositionSequence[0].ImagePositionPatient = list(p)
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per)
    if stray_ipp is not None:
        ds.ImagePositionPatient = list(stray_ipp)
    return ds


def csa2(tags: dict[str, tuple[str, list[str]]]) -> bytes:
    """A Siemens CSA2 header ("SV10") holding ``{name: (VR, items)}`` (the layout nibabel's
    ``csareader.read`` parses: 64-byte names, 4-int item headers, 4-byte alignment)."""
    out = b"SV10" + b"\x04\x03\x02\x01" + struct.pack("<2I", len(tags), 77)
    for name, (vr, items) in tags.items():
        out += struct.pack("<64si4s3i", name.encode(), len(items), vr.encode(), 0, len(items), 77)
        for item in items:
            data = item.encode() + b"\x00"
            out += struct.pack("<4i", len(data), len(data), 77, len(data))
            out += data + b"\x00" * ((4 - len(data) % 4) % 4)
    return out


def mosaic(n: int, tile: int, normal_sign: float = 1.0, series: str = "", value0: int = 1,
           **attrs: Any) -> Dataset:  # fmt: skip
    """A Siemens mosaic of ``n`` tiles (tile k holds ``value0 + k``), 2.5 mm apart, with a CSA
    image header whose SliceNormalVector is ``normal_sign`` times the IOP cross product."""
    m = int(np.ceil(np.sqrt(n)))
    tiled = np.zeros((m * tile, m * tile), np.uint16)
    for k in range(n):
        r, c = divmod(k, m)
        tiled[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile] = value0 + k  # fmt: skip
    ds = image(tiled, MR, series, ImageType=["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"],
               ImagePositionPatient=[-20.0, -30.0, 10.0], ImageOrientationPatient=list(AXIAL),
               PixelSpacing=[2.0, 2.0], SpacingBetweenSlices=2.5, Manufacturer="SIEMENS",
               **attrs)  # fmt: skip
    normal = [f"{normal_sign * v:.8f}" for v in (0.0, 0.0, 1.0)]
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291010, "OB", csa2({
        "NumberOfImagesInMosaic": ("US", [str(n)]),
        "AcquisitionMatrixText": ("SH", [f"{tile}p*{tile}"]),
        "SliceNormalVector": ("FD", normal),
    }))  # fmt: skip
    return ds


# ------------------------------------------------------------------ independent checks


def dicom_frames(folder: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(modality values (H, W), IPP, IOP, PixelSpacing) of every frame, pydicom only."""
    out = []
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array.astype(np.float64)
        arr = arr if arr.ndim == 3 else arr[None]
        slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
        for f in range(arr.shape[0]):
            out.append((arr[f] * slope + intercept, *(np.array(_attr(ds, f, g, k), float)
                        for g, k in (("PlanePositionSequence", "ImagePositionPatient"),
                                     ("PlaneOrientationSequence", "ImageOrientationPatient"),
                                     ("PixelMeasuresSequence", "PixelSpacing")))))  # fmt: skip
    return out


def _attr(ds: Dataset, frame: int, group: str, keyword: str) -> Any:
    for seq_name, index in (("PerFrameFunctionalGroupsSequence", frame),
                            ("SharedFunctionalGroupsSequence", 0)):  # fmt: skip
        seq = ds.get(seq_name)
        if seq and len(seq) > index and group in seq[index] and keyword in seq[index][group][0]:
            return seq[index][group][0][keyword].value
    return ds[keyword].value


def voxel_world_lps(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The NIfTI's data (I, J, K[, T]) and the LPS position of every voxel (I, J, K, 3)."""
    img = nib.load(str(path))
    data = np.asarray(img.get_fdata())
    affine = LPS_TO_RAS @ img.affine
    idx = np.stack(np.meshgrid(*(np.arange(n) for n in data.shape[:3]), indexing="ij"), -1)
    return data, idx @ affine[:3, :3].T + affine[:3, 3]


def assert_every_voxel_on_a_dicom_pixel(path: Path, frames: list[Any], time: int | None = None,
                                        tol: float = 0.1) -> None:  # fmt: skip
    """Every voxel of the NIfTI lies within ``tol`` mm of a DICOM pixel centre (found by
    geometry, not by value) and holds that pixel's modality value."""
    data, world = voxel_world_lps(path)
    if data.ndim == 4:
        data = data[..., time or 0]
    for k in range(data.shape[2]):
        w = world[:, :, k].reshape(-1, 3)
        for values, ipp, iop, ps in frames:
            rel = w - ipp
            normal = np.cross(iop[:3], iop[3:])
            col, row = rel @ iop[:3] / ps[1], rel @ iop[3:] / ps[0]
            if np.abs(rel @ normal).max() > tol:
                continue
            assert np.abs(col - np.rint(col)).max() * ps[1] <= tol, f"slice {k}: off a column"
            assert np.abs(row - np.rint(row)).max() * ps[0] <= tol, f"slice {k}: off a row"
            r, c = np.rint(row).astype(int), np.rint(col).astype(int)
            inside = (r >= 0) & (r < values.shape[0]) & (c >= 0) & (c < values.shape[1])
            assert inside.all(), f"slice {k}: voxels outside the DICOM image"
            assert np.allclose(data[:, :, k].reshape(-1), values[r, c], atol=1e-3), f"slice {k}"
            break
        else:
            raise AssertionError(f"slice {k} of {path.name} lies on no DICOM image plane")


def assert_linear_in_world(path: Path, margin: int, atol: float = 0.02) -> int:
    """Voxels (away from the in-plane border) hold :data:`GRADIENT` . P + :data:`OFFSET` of
    their own LPS position P; returns how many voxels were checked."""
    data, world = voxel_world_lps(path)
    expected = world @ GRADIENT + OFFSET
    inner = (slice(margin, data.shape[0] - margin), slice(margin, data.shape[1] - margin))
    diff = np.abs(data[inner] - expected[inner])
    assert diff.max() <= atol, f"{path.name}: up to {diff.max():.3f} off the linear values"
    return int(diff.size)


def convert_nifti(
    src: Path, out: Path, **options: object
) -> tuple[list[dict[str, str]], dict[str, str], int]:
    """``convert`` (NIfTI unless ``options`` say otherwise): manifest rows, errors by source,
    exit code."""
    from workflows.convert.batch import ConvertOptions, convert_folder

    opts = ConvertOptions(**{"format": "nifti", **options})  # type: ignore[arg-type]
    result = convert_folder(src, out, opts, progress=False)
    with (out / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    with (out / "errors.csv").open() as fh:
        errors = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    return rows, errors, result.exit_code


def convert_cli(src: Path, out: Path, *options: str) -> list[dict[str, str]]:
    """``radpipe convert SRC OUT --format nifti`` in a subprocess, as a user runs it; the
    manifest rows (the exit code must be 0)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    command = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out),
               "--format", "nifti", "--quiet", *options]  # fmt: skip
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with (out / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))
