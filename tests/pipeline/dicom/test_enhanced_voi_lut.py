"""A VOI LUT in an Enhanced object's Frame VOI LUT group (PS3.3 C.7.6.16.2.10b, Frame VOI
LUT With LUT: Legacy Converted Enhanced CT/MR/PET) was not looked for there: `--window
header` wrote such frames unwindowed ('none'), as if the file had no VOI LUT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main


def _lut(first: int, entries: np.ndarray) -> Sequence:
    item = Dataset()
    item.LUTDescriptor = [len(entries), first, 12]
    item.LUTData = entries.astype("<u2").tobytes()  # OW: 16-bit words
    return Sequence([item])


def _group(**values: object) -> Dataset:
    item = Dataset()
    for key, value in values.items():
        setattr(item, key, value)
    return item


def test_frame_voi_lut_sequence_applied_per_frame(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.2.2", "CT", 4, 4)  # Legacy Converted Enhanced CT
    ds.NumberOfFrames = 2
    stored = np.arange(32, dtype="<u2").reshape(2, 4, 4)
    ds.PixelData = stored.tobytes()
    rising = np.arange(32) * 100  # entry i for stored 0 + i
    falling = 4095 - np.arange(32) * 100  # frame 1's own, an inverting one from stored 16
    shared = _group(FrameVOILUTSequence=Sequence([_group(VOILUTSequence=_lut(0, rising))]))
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    own = _group(FrameVOILUTSequence=Sequence([_group(VOILUTSequence=_lut(16, falling[:16]))]))
    ds.PerFrameFunctionalGroupsSequence = Sequence([_group(), own])
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    cmd = ["convert", str(tmp_path / "src"), str(out), "--format", "npy", "--window", "header"]
    assert main([*cmd, "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: int(r["frame"]))
    assert [r["window"] for r in rows] == ["header", "header"]
    # PS3.3 C.11.2.1.1: output = LUT[stored - first mapped], scaled by 2**12 - 1 to [0, 1]
    assert np.allclose(np.load(out / rows[0]["output"]), rising[stored[0]] / 4095, atol=1e-6)
    assert np.allclose(np.load(out / rows[1]["output"]), falling[stored[1] - 16] / 4095, atol=1e-6)
