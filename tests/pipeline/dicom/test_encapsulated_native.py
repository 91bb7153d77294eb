"""Encapsulated Uncompressed Explicit VR Little Endian (1.2.840.10008.1.2.1.98, PS3.5 A.4.11).

Native little-endian frames, one per fragment (each padded to an even length). pydicom 3.0
decodes no such file (dicom-rs #285 asks the same of dicom-rs): ``inspect`` listed it as an
image and ``convert`` failed with "cannot decode transfer syntax Encapsulated Uncompressed
Explicit VR Little Endian". Now its frames are read as the native bytes they are. Expected
values are the arrays the fragments were built from.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate

from pipeline.dicom import read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

CT, SC = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.7"
EUC = "1.2.840.10008.1.2.1.98"


def _euc(frames: np.ndarray, sop: str = CT, **kwargs: Any) -> Dataset:
    """An EUC file holding ``frames`` (F, H, W[, 3]), one fragment each, padded to even."""
    ds = image_dataset(sop, "CT", frames.shape[1], frames.shape[2], syntax=EUC, **kwargs)
    ds.NumberOfFrames = len(frames)
    if frames.ndim == 4:
        ds.PlanarConfiguration = 0
    ds.PixelData = encapsulate([f.tobytes() + b"\0" * (f.nbytes % 2) for f in frames])
    ds["PixelData"].is_undefined_length = True
    return ds


def _read(tmp_path: Path, ds: Dataset) -> np.ndarray:
    path = tmp_path / "euc.dcm"
    ds.save_as(path, enforce_file_format=True)
    return read_instance(path, "euc.dcm").stored


def test_grey_frames_read_as_stored(tmp_path: Path) -> None:
    frames = (np.arange(2 * 3 * 5).reshape(2, 3, 5) * 130 - 1900).astype("<i2")  # 12-bit
    stored = _read(tmp_path, _euc(frames, stored=12, signed=True))
    assert stored.tolist() == frames.tolist()
    odd = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)  # 9-byte frames, padded
    assert _read(tmp_path, _euc(odd, bits=8)).tolist() == odd.tolist()


def test_rgb_frames_read_as_stored(tmp_path: Path) -> None:
    rgb = np.arange(2 * 2 * 3 * 3, dtype=np.uint8).reshape(2, 2, 3, 3) * 7
    ds = _euc(rgb, sop=SC, bits=8, samples=3, photometric="RGB")
    assert _read(tmp_path, ds).tolist() == rgb.tolist()


def test_a_short_frame_is_refused_by_name(tmp_path: Path) -> None:
    ds = _euc(np.zeros((2, 4, 4), np.uint16))
    ds.PixelData = encapsulate([b"\0" * 32, b"\0" * 8])
    ds["PixelData"].is_undefined_length = True
    with pytest.raises(DicomError, match="frame 1 holds 8 bytes, 32 needed"):
        _read(tmp_path, ds)


def test_convert_writes_the_frames(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    frames = np.stack([np.full((3, 4), 100 + k, np.uint16) for k in range(3)])
    ds = _euc(frames)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.save_as(src / "euc.dcm", enforce_file_format=True)
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    rows = sorted(csv.DictReader((out / "manifest.csv").open()), key=lambda r: r["frame"])
    assert [float(np.load(out / r["output"])[0, 0]) for r in rows] == [-924, -923, -922]
    assert [r["lossy"] for r in rows] == ["", "", ""]
