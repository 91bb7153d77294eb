"""Frames without slice geometry that the file itself tells apart (dcm2niix #372: an Enhanced MR
without its orientation, as a PACS export left it).

Such frames cannot be placed, so they are stacked in acquisition order; but their time point
(TemporalPositionIndex, PS3.3 C.7.6.16.2.2) was not looked at, so two time points of three
slices stored slice by slice (as Philips stores 4-D data, dcm2niix #529) came out as one
volume [0, 100, 1, 101, 2, 102], said only as "no geometry". Now each time point is a volume
of its own, said.

Expected values by hand: frame (t, z) holds 100 t + z.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.pipeline.dicom.builders import image_dataset, item
from workflows.cli import main

ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


def _without_orientation(order: list[tuple[int, int]]) -> Dataset:
    ds = image_dataset(ENHANCED_MR, "MR", 4, 4, bits=16)
    ds.NumberOfFrames, ds.FrameOfReferenceUID = len(order), "1.2.3"
    measures = item(PixelSpacing=[1.0, 1.0], SliceThickness=2.0)
    ds.SharedFunctionalGroupsSequence = Sequence(
        [item(PixelMeasuresSequence=Sequence([measures]))]
    )  # no PlaneOrientationSequence anywhere
    frames = []
    for t, z in order:
        content = item(TemporalPositionIndex=t + 1, InStackPositionNumber=z + 1, StackID="1")
        position = item(ImagePositionPatient=[0.0, 0.0, 2.0 * z])
        frames.append(item(FrameContentSequence=Sequence([content]),
                           PlanePositionSequence=Sequence([position])))  # fmt: skip
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.PixelData = np.concatenate([np.full(16, 100 * t + z, np.uint16) for t, z in order]).tobytes()
    return ds


def _volumes(tmp_path: Path, ds: Dataset) -> tuple[list[np.ndarray], list[str]]:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    ds.save_as(src / "mr.dcm", enforce_file_format=True)
    assert main(["convert", str(src), str(out), "--format", "npy", "--per", "series",
                 "--quiet"]) == 0  # fmt: skip
    with open(out / "manifest.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["output"])
    return [np.load(out / r["output"]) for r in rows], [r["problems"] for r in rows]


def test_time_points_of_unplaced_frames_are_volumes_of_their_own(tmp_path: Path) -> None:
    slice_by_slice = [(t, z) for z in range(3) for t in range(2)]
    volumes, problems = _volumes(tmp_path, _without_orientation(slice_by_slice))
    assert [v[:, 0, 0].tolist() for v in volumes] == [[0, 1, 2], [100, 101, 102]]
    for said in problems:
        assert "split: 2 stacks of frames without slice geometry told apart by " in said
        assert "TemporalPositionIdentifier" in said and "no geometry" in said


def test_a_cine_of_one_frame_per_time_point_stays_one_volume(tmp_path: Path) -> None:
    volumes, problems = _volumes(tmp_path, _without_orientation([(t, 0) for t in range(4)]))
    assert [v[:, 0, 0].tolist() for v in volumes] == [[0, 100, 200, 300]]
    assert "split" not in problems[0]
