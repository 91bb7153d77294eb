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


@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "position-index-only"])
def test_a_seg_of_a_multiframe_image_gives_each_frame_its_mask(
    series: list[pydicom.Dataset], tmp_path: Path, indexed: bool
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
    if not indexed:  # read frame by frame: ReferencedFrameNumber
        _positions_only(tmp_path / "seg.bin", keep=True)
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


def _positions_only(path: Path, keep: bool) -> None:
    """``path`` as a writer that indexes frames by position alone leaves it: no
    ReferencedSegmentNumber dimension (``keep``: the position's), or no dimension index."""
    ds = pydicom.dcmread(path)
    pointers = [int(item.DimensionIndexPointer) for item in ds.DimensionIndexSequence]
    at = pointers.index(0x0062000B)
    if keep:
        del ds.DimensionIndexSequence[at]
    else:
        del ds.DimensionIndexSequence
    for group in ds.PerFrameFunctionalGroupsSequence:
        content = group.FrameContentSequence[0]
        values = list(content.DimensionIndexValues)
        if keep:
            content.DimensionIndexValues = [v for i, v in enumerate(values) if i != at]
        else:
            del content.DimensionIndexValues
    ds.save_as(path)


@pytest.mark.parametrize("keep", [True, False], ids=["position-index-only", "no-dimension-index"])
@pytest.mark.parametrize("kind", ["BINARY", "FRACTIONAL"])
def test_a_seg_not_indexed_by_segment_is_read_frame_by_frame(
    series: list[pydicom.Dataset], tmp_path: Path, keep: bool, kind: str
) -> None:
    """highdicom cannot query such a SEG by source image (KeyError: 'The tag (0062,000B) ... is
    not used as a dimension index'); each frame names its segment and source all the same."""
    arr = np.zeros((3, 32, 32, 3), np.float32 if kind == "FRACTIONAL" else np.uint8)
    arr[0, 2:6, 2:6, 0] = 1
    arr[0, 10:12, 3:9, 2] = 1  # segments 1 and 3 on slice 0, 2 on slice 2, 1 nowhere else
    arr[2, 20:30, 20, 1] = 1
    if kind == "FRACTIONAL":
        arr[1, 5:9, 5:9, 1] = 0.4  # below one half: background
    write_seg(tmp_path / "p.dcm", series, arr, kind, (1, 2, 3))
    _positions_only(tmp_path / "p.dcm", keep)
    folder = Path(series[0].filename).parent
    images = scan_images(folder, [Path(ds.filename) for ds in series])
    got = read_seg_masks(tmp_path / "p.dcm", "p.dcm", images)
    want = np.zeros((3, 32, 32), np.uint8)
    want[0, 2:6, 2:6] = 1
    want[0, 10:12, 3:9] = 3
    want[2, 20:30, 20] = 2
    assert len(got) == 3
    for ds, mask in zip(series, want, strict=True):
        assert np.array_equal(got[(ds.SOPInstanceUID, 0)], mask)


@pytest.mark.parametrize("order", [(0, 2), (2, 0)], ids=["in-order", "reversed"])
def test_a_seg_placed_by_position_on_every_other_slice_leaves_the_slice_between_background(
    series: list[pydicom.Dataset], tmp_path: Path, order: tuple[int, int]
) -> None:
    """No source references: frames on slices 0 and 2 make a volume of twice the series'
    spacing, on whose planes slice 1 does not lie; it is background, not left without a mask
    (the run then refused it as an image with no mask row)."""
    srcs = [series[i] for i in order]
    arr = np.zeros((2, 32, 32, 2), np.uint8)
    arr[0, 2:5, 2:5, 0] = 1
    arr[1, 20, 3:9, 1] = 1
    seg = pydicom.dcmread(write_seg(tmp_path / "p.dcm", srcs, arr))
    for group in seg.PerFrameFunctionalGroupsSequence:
        del group.DerivationImageSequence
    del seg.ReferencedSeriesSequence
    seg.save_as(tmp_path / "p.dcm")
    folder = Path(series[0].filename).parent
    images = scan_images(folder, [Path(ds.filename) for ds in series])
    got = read_seg_masks(tmp_path / "p.dcm", "p.dcm", images)
    want = {ds.SOPInstanceUID: a[..., 0] + 2 * a[..., 1] for ds, a in zip(srcs, arr, strict=True)}
    want[series[1].SOPInstanceUID] = np.zeros((32, 32), np.uint8)
    assert sorted(got) == sorted((uid, 0) for uid in want)
    for uid, mask in want.items():
        assert np.array_equal(got[(uid, 0)], mask)
