"""DICOM SEGs read as class-index masks: a multi-frame source and a LABELMAP SEG.

The sources are one synthetic MR series (3 slices of 32x32); the multi-frame one is
highdicom's legacy-converted enhanced MR of them. The SEGs are written with highdicom from
arrays drawn here, which the masks read back must equal (segment number N as class N).
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from pipeline.dicom.seg_masks import read_seg_masks, scan_images
from pipeline.synth.study import StudySpec, write_study
from tests.runner.test_seg_masks import TYPE2, write_seg


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> list[pydicom.Dataset]:
    out = tmp_path_factory.mktemp("mr")
    write_study(out, StudySpec(patients=1, modality="MR", task="segmentation", size=32, slices=3))
    images = [pydicom.dcmread(f) for f in sorted((out / "dicom").rglob("*.dcm"))]
    first = images[0].SeriesInstanceUID
    images = [ds for ds in images if ds.SeriesInstanceUID == first]
    for ds in images:
        for keyword in TYPE2:
            if keyword not in ds:
                setattr(ds, keyword, "")
    return images


def test_a_seg_of_a_multiframe_image_gives_each_frame_its_mask(
    series: list[pydicom.Dataset], tmp_path: Path
) -> None:
    enhanced = hd.legacy.LegacyConvertedEnhancedMRImage(
        legacy_datasets=series, series_instance_uid=hd.UID(), series_number=5,
        sop_instance_uid=hd.UID(), instance_number=1,
    )  # fmt: skip
    enhanced.save_as(tmp_path / "mf.dcm")
    source = pydicom.dcmread(tmp_path / "mf.dcm")
    arr = np.zeros((3, 32, 32, 2), np.uint8)
    arr[1, 4:9, 6, 0] = 1
    arr[2, 0:2, 0:2, 1] = 1
    write_seg(tmp_path / "seg.bin", [source], arr)
    images = scan_images(tmp_path, [tmp_path / "mf.dcm", tmp_path / "seg.bin"])
    assert [(im.rel, im.frames) for im in images] == [("mf.dcm", 3)]  # the SEG is no image
    got = read_seg_masks(tmp_path / "seg.bin", "seg.bin", images)
    assert sorted(frame for _, frame in got) == [0, 1, 2]
    for frame in range(3):
        want = arr[frame, ..., 0] + 2 * arr[frame, ..., 1]
        assert np.array_equal(got[(source.SOPInstanceUID, frame)], want)


def test_a_labelmap_seg_is_read_as_its_segment_numbers(
    series: list[pydicom.Dataset], tmp_path: Path
) -> None:
    labels = np.zeros((3, 32, 32), np.uint8)
    labels[0, 3:7, 3:7] = 3
    labels[0, 10:12, 3:30] = 1
    labels[2, 20:30, 5] = 2
    write_seg(tmp_path / "lm.dcm", series, labels, "LABELMAP", (1, 2, 3))
    folder = Path(series[0].filename).parent
    images = scan_images(folder, [Path(ds.filename) for ds in series])
    got = read_seg_masks(tmp_path / "lm.dcm", "lm.dcm", images)
    assert len(got) == 3
    for ds, want in zip(series, labels, strict=True):
        assert np.array_equal(got[(ds.SOPInstanceUID, 0)], want)
