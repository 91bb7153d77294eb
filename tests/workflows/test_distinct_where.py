"""The manifest's ``distinct`` cell of volumes told apart by position, and of Enhanced frames.

- Two stacks of one series at other places (split at a gap under ``--uneven split``, blocks
  side by side at the same slice positions) had an empty cell: nothing but the files said
  which ``_sNN`` lay where. Each now says its first and last slice's ImagePositionPatient.
- An Enhanced MR series' echoes are told apart by each frame's EffectiveEchoTime (MR Echo
  Sequence, PS3.3 C.8.13.5.2), its cardiac phases by NominalCardiacTriggerDelayTime (C.7.6.16.2.7):
  a series of single-frame Enhanced files said ``EchoNumbers=10`` (no echo number 10 exists),
  a multi-frame one ``TriggerTime=100``.

Every slice's pixels hold the number of the stack (or echo) it was written in, so each
output's first voxel says which files it holds; the expected cells are those files' values,
written out by hand.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.pipeline.dicom.builders import item
from tests.pipeline.dicom.geometry_cases import convert_nifti, enhanced, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.117"


def _cells(out: Path, rows: list[dict[str, str]]) -> dict[int, str]:
    """``{value of the output's first voxel: its distinct cell}``."""
    found = {}
    for row in rows:
        found[int(np.asarray(nib.load(out / row["output"]).dataobj).flat[0])] = row["distinct"]
    assert len(found) == len(rows)
    return found


def test_stacks_split_at_a_gap_say_where_they_lie(tmp_path: Path) -> None:
    places = {1: [0.0, 2.0, 4.0], 2: [50.0, 52.0, 54.0]}  # a 46 mm gap: two volumes
    slices = [plane((10.0, -20.5, z), value=v, series=SERIES) for v, zs in places.items()
              for z in zs]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out",
                                       uneven="split")  # fmt: skip
    assert code == 0 and not errors and len(rows) == 2
    assert _cells(tmp_path / "out", rows) == {
        1: "ImagePositionPatient=10\\-20.5\\0..10\\-20.5\\4",
        2: "ImagePositionPatient=10\\-20.5\\50..10\\-20.5\\54",
    }


def test_blocks_side_by_side_say_where_they_lie(tmp_path: Path) -> None:
    slices = [plane((x, 0.0, 3.0 * z), value=1 + x // 100, series=SERIES)
              for x in (0, 100) for z in range(3)]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out")
    assert code == 0 and not errors and len(rows) == 2
    assert _cells(tmp_path / "out", rows) == {
        1: "ImagePositionPatient=0\\0\\0..0\\0\\6",
        2: "ImagePositionPatient=100\\0\\0..100\\0\\6",
    }


def test_position_is_said_only_where_the_echo_leaves_volumes_alike(tmp_path: Path) -> None:
    """Two echoes of two blocks side by side: four volumes, the echo time alone says two."""
    slices = [plane((x, 0.0, 3.0 * z), value=10 * e + 1 + x // 100, series=SERIES,
                    EchoTime=5.0 * e)
              for e in (1, 2) for x in (0, 100) for z in range(3)]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out")
    assert code == 0 and not errors and len(rows) == 4
    left, right = "0\\0\\0..0\\0\\6", "100\\0\\0..100\\0\\6"
    assert _cells(tmp_path / "out", rows) == {
        11: f"EchoTime=5; ImagePositionPatient={left}",
        12: f"EchoTime=5; ImagePositionPatient={right}",
        21: f"EchoTime=10; ImagePositionPatient={left}",
        22: f"EchoTime=10; ImagePositionPatient={right}",
    }


def _single_frame(z: int, echo: int, group: Dataset) -> Dataset:
    ds = enhanced([(0.0, 0.0, 2.0 * z)])
    ds.SeriesInstanceUID = SERIES
    ds.PerFrameFunctionalGroupsSequence[0].update(group)
    ds.PixelData = np.full((8, 8), echo, "<u2").tobytes()
    return ds


@pytest.mark.parametrize(
    ("group", "name"),
    [
        (lambda e: item(MREchoSequence=Sequence([item(EffectiveEchoTime=10.0 * e)])),
         "EffectiveEchoTime"),
        (lambda e: item(CardiacSynchronizationSequence=Sequence(
            [item(NominalCardiacTriggerDelayTime=10.0 * e)])), "NominalCardiacTriggerDelayTime"),
    ],
    ids=["echo", "cardiac"],
)  # fmt: skip
@pytest.mark.parametrize("files", ["single-frame", "multi-frame"])
def test_enhanced_frames_are_named_by_their_group_attribute(
    tmp_path: Path, group: object, name: str, files: str
) -> None:
    cases = [(z, e) for z in range(3) for e in (1, 2)]
    if files == "single-frame":
        slices = [_single_frame(z, e, group(e)) for z, e in cases]  # type: ignore[operator]
    else:
        ds = enhanced([(0.0, 0.0, 2.0 * z) for z, _ in cases])
        for frame, (_, e) in zip(ds.PerFrameFunctionalGroupsSequence, cases, strict=True):
            frame.update(group(e))  # type: ignore[operator]
        ds.PixelData = np.stack([np.full((8, 8), e, "<u2") for _, e in cases]).tobytes()
        slices = [ds]
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out",
                                       split_4d=True)  # fmt: skip
    assert code == 0 and not errors and len(rows) == 2
    assert _cells(tmp_path / "out", rows) == {1: f"{name}=10", 2: f"{name}=20"}


@pytest.mark.parametrize("split_4d", [True, False], ids=["split-4d", "no-repetition-time"])
def test_repeats_told_apart_by_acquisition_order_say_their_instance_numbers(
    tmp_path: Path, split_4d: bool
) -> None:
    """Two repeats of three slices, nothing but their order telling them apart: one volume
    each under --split-4d (or without a RepetitionTime for a 4-D header), their cells empty."""
    timed = {"RepetitionTime": 2000.0} if split_4d else {}
    slices = [plane((0.0, 0.0, 2.0 * z), value=1 + t, series=SERIES, InstanceNumber=1 + 3 * t + z,
                    **timed) for t in range(2) for z in range(3)]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out",
                                       split_4d=split_4d)  # fmt: skip
    assert code == 0 and not errors and len(rows) == 2
    assert _cells(tmp_path / "out", rows) == {
        1: "InstanceNumber=1..3 (3 values)",
        2: "InstanceNumber=4..6 (3 values)",
    }
