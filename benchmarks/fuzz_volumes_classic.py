"""``benchmarks/fuzz_volumes.py --kind classic``: classic multi-frame files, one position each.

Each case is one classic (not Enhanced) multi-frame CT, MR, US or XA file of 2 to 6 frames
with one ImagePositionPatient (an oblique orientation, random spacing), frame k holding
``1000 k`` plus its pixel's index. Its truth is drawn first: its frames are slices (along the
normal every ``step`` mm, said by SpacingBetweenSlices, by a SliceLocationVector the
FrameIncrementPointer names, or not at all: only a SliceThickness) or time points at the one
position (a FrameTime, a FrameTimeVector, with or without a pointer to it, a pointer to an
unusable FrameTime, or a cardiac cine's CardiacNumberOfImages), often beside a
SpacingBetweenSlices that must not stack them, or frames a pointer labels otherwise.

The oracle, per NIfTI: placed (qform/sform code 1), slices must be 3-D, each NIfTI slice at
its frame's position (the frame read from its pixels) and the in-plane columns the cosines
times the spacing; time points must be ``(W, H, 1, T)`` at the one position, in frame order,
``pixdim[4]`` the frame time. Unplaced (codes 0) must be said in ``problems``. A case that
fails is a finding; one refused (``errors.csv``) is counted.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from workflows.convert.batch import ConvertOptions, convert_folder

__all__ = ["classic_case", "run_classic"]

SOP = {"CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4",
       "US": "1.2.840.10008.5.1.4.1.1.3.1", "XA": "1.2.840.10008.5.1.4.1.1.12.1"}  # fmt: skip
FRAME_TIME, FRAME_TIME_VECTOR, SLICES, LABELS = 0x00181063, 0x00181065, 0x00182005, 0x00182002
ROWS, COLUMNS = 3, 4


def _orientation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return np.round(np.concatenate([q[:, 0], q[:, 1]]), 6)  # DS precision, orthonormal to 1e-6


def classic_case(rng: np.random.Generator, folder: Path) -> dict[str, Any]:
    """Write one case into ``folder``; its truth (see the module)."""
    modality = str(rng.choice(list(SOP)))
    n = int(rng.integers(2, 7))
    iop, ipp = _orientation(rng), np.round(rng.uniform(-100, 100, 3), 3)
    spacing = (float(rng.choice([0.5, 0.7, 1.0])), float(rng.choice([0.5, 0.8, 1.2])))
    ds = _dataset(modality, n, iop, ipp, spacing)
    truth: dict[str, Any] = {"n": n, "iop": iop, "ipp": ipp, "spacing": spacing}
    kind = str(rng.choice(["sbs", "slv", "thick", "time", "vector", "pointer0", "cardiac",
                           "label"]))  # fmt: skip
    step = float(rng.choice([-1, 1]) * rng.choice([0.5, 1.25, 2.5, 4.0]))
    truth.update(kind=kind, what="slices" if kind in ("sbs", "slv") else "other", step=step)
    if kind == "sbs":
        ds.SpacingBetweenSlices = step
    elif kind == "slv":
        start = float(rng.uniform(-50, 50))
        ds.SliceLocationVector = [round(start + k * step, 3) for k in range(n)]
        ds.FrameIncrementPointer = Tag(SLICES)
        if rng.random() < 0.5:
            ds.SpacingBetweenSlices = abs(step) + 1  # a distractor the pointer overrides
    elif kind != "thick":  # thick: slices without a step to stack them by
        if rng.random() < 0.7:
            ds.SpacingBetweenSlices = abs(step)  # MR files carry one: must not stack time
        if kind in ("time", "vector"):
            truth.update(what="time", frame_time=40.0)
            if kind == "time":
                ds.FrameTime = 40.0
            else:
                ds.FrameTimeVector = [0.0] + [40.0] * (n - 1)
            if rng.random() < 0.6:
                ds.FrameIncrementPointer = Tag(FRAME_TIME if kind == "time" else FRAME_TIME_VECTOR)
        elif kind == "pointer0":
            ds.FrameTime, ds.FrameIncrementPointer = 0, Tag(FRAME_TIME)
        elif kind == "cardiac":
            ds.CardiacNumberOfImages = n
        elif kind == "label":
            ds.FrameLabelVector = [f"L{k}" for k in range(n)]
            ds.FrameIncrementPointer = Tag(LABELS)
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / "mf.dcm", enforce_file_format=True)
    return truth


def _dataset(modality: str, n: int, iop: np.ndarray, ipp: np.ndarray,
             spacing: tuple[float, float]) -> Dataset:  # fmt: skip
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SOP[modality]
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P", generate_uid(), generate_uid()
    ds.Modality, ds.NumberOfFrames, ds.Rows, ds.Columns = modality, n, ROWS, COLUMNS
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.ImagePositionPatient = [float(v) for v in ipp]
    ds.ImageOrientationPatient = [float(v) for v in iop]
    ds.PixelSpacing, ds.SliceThickness = list(spacing), 3.0
    if modality == "CT":
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    pixels = np.arange(ROWS * COLUMNS).reshape(ROWS, COLUMNS)
    ds.PixelData = np.stack([1000 * k + pixels for k in range(n)]).astype("<u2").tobytes()
    return ds


def _lps_to_ras(v: np.ndarray) -> np.ndarray:
    return v * np.array([-1.0, -1.0, 1.0])


def verdict(nifti: Path, problems: str, truth: dict[str, Any]) -> str:
    """``""`` when the NIfTI is right for its truth (see the module), else what is wrong."""
    import nibabel as nib

    img = nib.load(nifti)
    data, affine = np.asarray(img.dataobj), img.affine
    if int(img.header["qform_code"]) == 0 and int(img.header["sform_code"]) == 0:
        return "" if problems else "unplaced, unsaid"
    iop, ipp, (dr, dc) = truth["iop"], truth["ipp"], truth["spacing"]
    normal = np.cross(iop[:3], iop[3:])
    if not np.allclose(affine[:3, 0], _lps_to_ras(iop[:3] * dc), atol=1e-3) or not np.allclose(
        affine[:3, 1], _lps_to_ras(iop[3:] * dr), atol=1e-3
    ):
        return "in-plane columns wrong"
    if truth["what"] == "slices":
        if data.ndim != 3 or data.shape[2] != truth["n"]:
            return f"slices written as shape {data.shape}"
        for k in range(data.shape[2]):
            frame = int(data[0, 0, k]) // 1000
            want = _lps_to_ras(ipp + frame * truth["step"] * normal)
            if not np.allclose((affine @ [0, 0, k, 1])[:3], want, atol=1e-2):
                return f"slice {k} (frame {frame}) placed wrong"
        return ""
    if truth["what"] != "time":
        return f"{truth['kind']} frames placed: {data.shape}"
    if data.ndim != 4 or data.shape[2] != 1:
        return f"time points written as shape {data.shape}"
    if [int(v) // 1000 for v in data[0, 0, 0]] != list(range(truth["n"])):
        return "time points out of order"
    if not np.allclose(affine[:3, 3], _lps_to_ras(ipp), atol=1e-2):
        return "cine not at its position"
    if abs(float(img.header.get_zooms()[3]) - truth["frame_time"] / 1000) > 1e-6:
        return "cine time step wrong"
    return ""


def run_classic(cases: int, seed: int, work: Path, *, batch: int) -> tuple[Counter[str], list[str]]:
    """Counts and findings of ``--kind classic`` (see the module), ``batch`` cases a folder."""
    rng = np.random.default_rng(seed)
    counts: Counter[str] = Counter()
    findings: list[str] = []
    for start in range(0, cases, batch):
        more, lines = _one_batch(rng, work, range(start, min(cases, start + batch)))
        counts.update(more)
        findings += lines
    return counts, findings


def _one_batch(rng: np.random.Generator, work: Path, ks: range) -> tuple[Counter[str], list[str]]:
    src, out = work / f"in{ks.start:06d}", work / f"out{ks.start:06d}"
    truth = {f"c{k:05d}": classic_case(rng, src / f"c{k:05d}") for k in ks}
    convert_folder(src, out, ConvertOptions(format="nifti", per="series", workers=1),
                   progress=False)  # fmt: skip
    with (out / "manifest.csv").open(newline="") as fh:
        rows = {r["source"].split("/")[0]: r for r in csv.DictReader(fh)}
    counts: Counter[str] = Counter()
    findings = []
    for case, t in truth.items():
        if case not in rows:
            counts[f"{t['kind']} refused"] += 1
            continue
        wrong = verdict(out / rows[case]["output"], rows[case]["problems"], t)
        counts[f"{t['kind']} {'wrong' if wrong else 'right'}"] += 1
        if wrong:
            findings.append(f"{case}: {wrong} [{t['kind']}]")
    return counts, findings
