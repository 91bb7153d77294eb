"""Enhanced objects keep each frame's VOI in its Frame VOI LUT group (PS3.3 C.7.6.16.2.10):
its VOILUTFunction beside its window (a SIGMOID or LINEAR_EXACT window there was applied as
LINEAR: the function was read from the top level only), or a VOI LUT Sequence (C.7.6.16.2.10b,
Frame VOI LUT With LUT: Legacy Converted Enhanced images; `--window header` wrote such frames
unwindowed, 'none', as if the file had none)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, item
from workflows.cli import main


def _header_window_rows(tmp_path: Path, ds: Dataset) -> list[dict[str, str]]:
    """``convert --format npy --window header`` of one file: its manifest rows by frame."""
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    cmd = ["convert", str(tmp_path / "src"), str(out), "--format", "npy", "--window", "header"]
    assert main([*cmd, "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: int(r["frame"]))
    return [{**r, "output": str(out / r["output"])} for r in rows]


def _frames_through_header_window(tmp_path: Path, ds: Dataset) -> list[np.ndarray]:
    """``convert --format npy --window header`` of one file: each frame's output."""
    rows = _header_window_rows(tmp_path, ds)
    assert [r["window"] for r in rows] == ["header"] * len(rows)
    return [np.load(r["output"]) for r in rows]


def _two_frame_mr(shared: Sequence, frame_1: Dataset) -> tuple[Dataset, np.ndarray]:
    """A 2-frame 4x4 MR (stored 0, 10, 20, ...) with a Shared and frame 1's own group item."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    ds.NumberOfFrames = 2
    stored = (np.arange(32, dtype="<u2") * 10).reshape(2, 4, 4)
    ds.PixelData = stored.tobytes()
    ds.SharedFunctionalGroupsSequence = Sequence([item(FrameVOILUTSequence=shared)])
    ds.PerFrameFunctionalGroupsSequence = Sequence([item(), frame_1])
    return ds, stored


def _voi(center: float, width: float, function: str) -> Sequence:
    return Sequence([item(WindowCenter=center, WindowWidth=width, VOILUTFunction=function)])


def test_frame_voi_lut_function_is_each_frames_own(tmp_path: Path) -> None:
    own = item(FrameVOILUTSequence=_voi(200, 40, "LINEAR_EXACT"))
    ds, stored = _two_frame_mr(_voi(100, 100, "SIGMOID"), own)
    first, second = _frames_through_header_window(tmp_path, ds)
    x = stored.astype(np.float64)
    # PS3.3 C.11.2.1.3.1 SIGMOID: 1 / (1 + exp(-4 (x - c) / w)); C.11.2.1.3.2 LINEAR_EXACT:
    # (x - c) / w + 0.5, clipped to [0, 1] (outputs in [0, 1])
    assert np.allclose(first, 1 / (1 + np.exp(-4 * (x[0] - 100) / 100)), atol=1e-6)
    assert np.allclose(second, np.clip((x[1] - 200) / 40 + 0.5, 0, 1), atol=1e-6)


def _lut(first: int, entries: np.ndarray) -> Sequence:
    lut = item(LUTDescriptor=[len(entries), first, 12])
    lut.LUTData = entries.astype("<u2").tobytes()  # OW: 16-bit words
    return Sequence([lut])


def test_frame_voi_lut_sequence_applied_per_frame(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.2.2", "CT", 4, 4)  # Legacy Converted Enhanced CT
    ds.NumberOfFrames = 2
    stored = np.arange(32, dtype="<u2").reshape(2, 4, 4)
    ds.PixelData = stored.tobytes()
    rising = np.arange(32) * 100  # entry i for stored 0 + i
    falling = 4095 - np.arange(32) * 100  # frame 1's own, an inverting one from stored 16
    shared = item(FrameVOILUTSequence=Sequence([item(VOILUTSequence=_lut(0, rising))]))
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    own = item(FrameVOILUTSequence=Sequence([item(VOILUTSequence=_lut(16, falling[:16]))]))
    ds.PerFrameFunctionalGroupsSequence = Sequence([item(), own])
    first, second = _frames_through_header_window(tmp_path, ds)
    # PS3.3 C.11.2.1.1: output = LUT[stored - first mapped], scaled by 2**12 - 1 to [0, 1]
    assert np.allclose(first, rising[stored[0]] / 4095, atol=1e-6)
    assert np.allclose(second, falling[stored[1] - 16] / 4095, atol=1e-6)


def test_inspect_notes_an_unusable_frame_window_as_convert_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # inspect checked the top-level window only, so a frame group's WindowWidth 0 that convert
    # ignores with a note went unmentioned ("inspect reports what convert would")
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    ds.NumberOfFrames, ds.PixelData = 2, np.zeros(32, "<u2").tobytes()
    bad = item(FrameVOILUTSequence=Sequence([item(WindowCenter=10, WindowWidth=0)]))
    ds.PerFrameFunctionalGroupsSequence = Sequence([item(), bad])
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    main(["inspect", str(tmp_path / "src")])
    said = "e.dcm: note: WindowWidth 0 is not positive: the header's window is ignored"
    assert said in capsys.readouterr().out
    main(["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--format", "npy", "--quiet"])
    rows = read_manifest(tmp_path / "out" / "manifest.csv")
    assert all("WindowWidth 0 is not positive" in r["problems"] for r in rows)


def test_a_frames_center_is_never_paired_with_another_items_width(tmp_path: Path) -> None:
    """Frame 1's own Frame VOI LUT item holds WindowCenter 200 but no WindowWidth: its window
    was 200 with the Shared item's width 100, mixed silently. Its item is its window: the
    width is missing, said, and frame 1 is left unwindowed; frame 0 keeps the Shared one."""
    own = item(FrameVOILUTSequence=Sequence([item(WindowCenter=200)]))
    ds, stored = _two_frame_mr(_voi(100, 100, "LINEAR_EXACT"), own)
    rows = _header_window_rows(tmp_path, ds)
    assert [r["window"] for r in rows] == ["header", "none"]
    assert (
        "WindowWidth (0028,1051) is missing: the header's window is ignored"
        in (rows[1]["problems"])
    )
    x = stored.astype(np.float64)  # LINEAR_EXACT (C.11.2.1.3.2): (x - c) / w + 0.5, clipped
    assert np.allclose(np.load(rows[0]["output"]), np.clip((x[0] - 100) / 100 + 0.5, 0, 1))
    assert np.array_equal(np.load(rows[1]["output"]), x[1])  # stored values, no rescale
