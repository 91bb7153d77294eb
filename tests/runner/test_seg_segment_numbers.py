"""A SEG's segment numbers are class indices as they stand (segment N is class N): the
binary {0, 255} reading of image masks (a white-on-black PNG is class 1) must not turn a SEG's
segment 255 into class 1. Segment 255 is past any data.max_classes (at most 255), so it is
refused naming the SEG, unless data.mask_values maps it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from tests.runner.conftest import seg_config
from tests.runner.test_seg_masks import _folder, _masks_by_instance, _masks_csv, write_seg
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


@pytest.fixture(scope="module")
def sources(mr_seg: Path) -> list[list[pydicom.Dataset]]:
    from tests.runner.test_seg_masks import _sources

    return _sources(mr_seg)


def _segs(folder: Path, sources: list[list[pydicom.Dataset]], number: int) -> Path:
    """Series 0: one segment ``number`` of 4 pixels on slice 0; the others: empty SEGs."""
    arr = np.zeros((3, 32, 32, 1), np.uint8)
    arr[0, 1:3, 1:3, 0] = 1
    lone = write_seg(folder / "lone.dcm", sources[0], arr, numbers=(1,))
    ds = pydicom.dcmread(lone)  # highdicom numbers a binary SEG's segments from 1: renumber
    ds.SegmentSequence[0].SegmentNumber = number
    groups = [*ds.PerFrameFunctionalGroupsSequence, *ds.SharedFunctionalGroupsSequence]
    for group in groups:
        for item in group.get("SegmentIdentificationSequence", []):
            item.ReferencedSegmentNumber = number
    ds.save_as(lone)
    rows = [["", "", "lone.dcm"]]
    for n, other in enumerate(sources[1:]):
        write_seg(folder / f"e{n}.dcm", other, np.zeros((3, 32, 32, 1), np.uint8), numbers=(1,))
        rows.append(["", "", f"e{n}.dcm"])
    return _masks_csv(folder, rows)


def test_a_lone_segment_255_is_refused_naming_the_seg_not_read_as_class_1(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    raw = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_segs(_folder(tmp_path), sources, 255))
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError) as info:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    said = str(info.value)
    assert "masks.csv: 1 of 8 masks holds a class beyond data.max_classes" in said
    assert "lone.dcm: class 255" in said
    assert not (tmp_path / "run" / "truth" / "masks_from_seg.csv").exists()


def test_segment_255_mapped_by_mask_values_is_that_class(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    """data.mask_values {255: 2} with three class names: the SEG's pixels are class 2 (the
    names' check counts the mapped classes, not the raw segment number 255)."""
    masks = _segs(_folder(tmp_path), sources, 255)
    values = {0: 0, 1: 1, 2: 2, 255: 2}
    got = _masks_by_instance(mr_seg, masks, tmp_path, class_names=["bg", "organ", "lesion"],
                             mask_values=values)  # fmt: skip
    want = np.zeros((32, 32), np.uint8)
    want[1:3, 1:3] = 2
    assert np.array_equal(got[hash_key(sources[0][0].SOPInstanceUID)], want)
