"""Enhanced objects keep VOILUTFunction in each frame's Frame VOI LUT group (PS3.3
C.7.6.16.2.10), beside the frame's window: a SIGMOID or LINEAR_EXACT window there was
applied as LINEAR (the function was read from the top level only), silently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main


def _item(**values: object) -> Dataset:
    item = Dataset()
    for key, value in values.items():
        setattr(item, key, value)
    return item


def _voi(center: float, width: float, function: str) -> Sequence:
    return Sequence([_item(WindowCenter=center, WindowWidth=width, VOILUTFunction=function)])


def test_frame_voi_lut_function_is_each_frames_own(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    ds.NumberOfFrames = 2
    stored = (np.arange(32, dtype="<u2") * 10).reshape(2, 4, 4)
    ds.PixelData = stored.tobytes()
    ds.SharedFunctionalGroupsSequence = Sequence(
        [_item(FrameVOILUTSequence=_voi(100, 100, "SIGMOID"))]
    )
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [_item(), _item(FrameVOILUTSequence=_voi(200, 40, "LINEAR_EXACT"))]
    )
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    cmd = ["convert", str(tmp_path / "src"), str(out), "--format", "npy", "--window", "header"]
    assert main([*cmd, "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: int(r["frame"]))
    x = stored.astype(np.float64)
    # PS3.3 C.11.2.1.3.1 SIGMOID: 1 / (1 + exp(-4 (x - c) / w)); C.11.2.1.3.2 LINEAR_EXACT:
    # (x - c) / w + 0.5, clipped to [0, 1] (outputs in [0, 1])
    sigmoid = 1 / (1 + np.exp(-4 * (x[0] - 100) / 100))
    exact = np.clip((x[1] - 200) / 40 + 0.5, 0, 1)
    assert np.allclose(np.load(out / rows[0]["output"]), sigmoid, atol=1e-6)
    assert np.allclose(np.load(out / rows[1]["output"]), exact, atol=1e-6)
    assert [r["window"] for r in rows] == ["header", "header"]
