"""DICOM SEG masks in ``radpipe evaluate RUN SRC --masks``, and the segments a SEG holds.

The external masks CSV names SEGs as a run's may: ``evaluate`` read the classes of every
``--masks`` file before converting, as PNG/NPY/NIfTI, and refused a SEG (``unsupported format
'.dcm'``). The SEGs are written with highdicom from arrays drawn here.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from pipeline.dicom.seg_masks import held_segments
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from tests.runner.conftest import seg_config
from tests.runner.test_seg_masks import _drawn, _sources, write_seg
from workflows.run.config import validate_config
from workflows.run.external import evaluate_external
from workflows.run.runner import run_study
from workflows.run.study import prepare_study


def _csv(folder: Path, names: list[str]) -> Path:
    with (folder / "masks.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([["sop_instance_uid", "frame", "mask"],
                                  *(["", "", n] for n in names)])  # fmt: skip
    return folder / "masks.csv"


@pytest.fixture(scope="module")
def sources(mr_seg: Path) -> list[list[pydicom.Dataset]]:
    return _sources(mr_seg)


def test_radpipe_evaluate_scores_external_seg_masks_and_refuses_a_class_past_the_model(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    train = tmp_path / "train segs"  # a space in the folder and in the names
    train.mkdir()
    for n, images in enumerate(sources):
        write_seg(train / f"s {n}.dcm", [images[0], images[2]], _drawn(n))
    raw: dict[str, Any] = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_csv(train, [f"s {n}.dcm" for n in range(len(sources))]))
    raw["data"]["class_names"] = ["background", "organ", "lesion"]
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    ext = tmp_path / "ext segs"
    ext.mkdir()
    arr = np.zeros((3, 32, 32, 2), np.uint8)
    arr[1, 4:9, 6:12, 0] = 1
    arr[2, 20:25, 3:7, 1] = 1
    write_seg(ext / "e0.dcm", sources[0], arr)
    for n, images in enumerate(sources[1:], 1):  # every series a case: each needs its masks
        write_seg(ext / f"e{n}.dcm", [images[0], images[2]], _drawn(10 + n))
    names = [f"e{n}.dcm" for n in range(len(sources))]
    out, metrics = evaluate_external(outcome.run_dir, mr_seg / "dicom", None,
                                     masks=_csv(ext, names), out=tmp_path / "e",
                                     progress=False)  # fmt: skip
    assert metrics["summary"]["dice_case_n"] == len(sources)
    with (out / "truth" / "masks_from_seg.csv").open(newline="") as fh:
        rows = {r["instance_key"]: r["mask"] for r in csv.DictReader(fh)}
    assert all(m.startswith("masks_from_seg/") for m in rows.values())  # relative: no paths
    for ds, want in zip(sources[0], arr[..., 0] + 2 * arr[..., 1], strict=True):
        assert np.array_equal(np.load(out / "truth" / rows[hash_key(ds.SOPInstanceUID)]), want)
    beyond = np.zeros((3, 32, 32, 3), np.uint8)
    beyond[0, 1:3, 1:3, 2] = 1  # segment 3: the model has classes 0..2
    write_seg(ext / "b.dcm", sources[1], beyond, numbers=(1, 2, 3))
    with pytest.raises(RadpipeError) as info:
        evaluate_external(outcome.run_dir, mr_seg / "dicom", None, masks=_csv(ext, ["b.dcm"]),
                          out=tmp_path / "b", progress=False)  # fmt: skip
    assert "1 of 1 mask hold a class the run's model cannot output" in str(info.value)
    assert "b.dcm (line 2): class 3" in str(info.value)


@pytest.mark.parametrize(
    ("kind", "drawn", "numbers", "want"),
    [
        ("BINARY", {(0, 0): 1}, (1, 2, 3), {1}),  # segments 2 and 3 empty
        ("BINARY", {(2, 1): 1, (1, 2): 1}, (1, 2, 3), {2, 3}),
        ("FRACTIONAL", {(0, 0): 0.4, (1, 1): 0.5}, (1, 2), {2}),  # 0.4 < 0.5: not held
        ("LABELMAP", {(0, 0): 1, (2, 2): 1}, (1, 2, 3), {1, 3}),
    ],
    ids=["binary-empty-segments", "binary-2-3", "fractional-half", "labelmap"],
)  # fmt: skip
def test_held_segments_are_those_with_a_pixel(
    sources: list[list[pydicom.Dataset]], tmp_path: Path, kind: str,
    drawn: dict[tuple[int, int], float], numbers: tuple[int, ...], want: set[int],
) -> None:  # fmt: skip
    arr = np.zeros((3, 32, 32, len(numbers)), np.float32 if kind == "FRACTIONAL" else np.uint8)
    for (image, segment), value in drawn.items():
        arr[image, 5:9, 5:9, segment] = value
    if kind == "LABELMAP":
        arr = (arr * np.arange(1, len(numbers) + 1)).sum(axis=-1).astype(np.uint8)
    write_seg(tmp_path / "s.dcm", sources[0], arr, kind, numbers)
    assert held_segments(tmp_path / "s.dcm", "s.dcm") == want


def _labelled(path: Path, labels: tuple[str, ...]) -> None:
    ds = pydicom.dcmread(path)
    for item, label in zip(ds.SegmentSequence, labels, strict=True):
        item.SegmentLabel = label
    ds.save_as(path)


@pytest.mark.parametrize(
    ("labels", "values", "said"),
    [
        (("Lesion", "Organ"), None, "segment 1 'Lesion' is class 1 'organ'; segment 2 'Organ' "
         "is class 2 'lesion' (segment number N is class N; check the order"),
        (("Lesion", "Organ"), {0: 0, 1: 2, 2: 1}, ""),  # mapped: as named
        (("organ ", "LESION"), None, ""),  # case and spaces aside, as named
    ],
    ids=["swapped", "swapped-mapped", "same-names"],
)  # fmt: skip
def test_segment_labels_other_than_the_class_names_are_said(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    labels: tuple[str, ...], values: dict[int, int] | None, said: str,
) -> None:  # fmt: skip
    for n, images in enumerate(sources):
        _labelled(write_seg(tmp_path / f"s{n}.dcm", images, np.zeros((3, 32, 32, 2), np.uint8)),
                  labels)  # fmt: skip
    raw: dict[str, Any] = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_csv(tmp_path, [f"s{n}.dcm" for n in range(len(sources))]))
    raw["data"]["class_names"] = ["background", "organ", "lesion"]
    raw["data"]["mask_values"] = values
    (tmp_path / "run").mkdir()
    caplog.set_level("WARNING", logger="radpipe")
    prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    warned = [r.getMessage() for r in caplog.records if "segment labels" in r.getMessage()]
    if not said:
        assert warned == []
        return
    assert warned == [f"s0.dcm, s1.dcm, s2.dcm and 5 more SEGs: segment labels that are not "
                      f"data.class_names: {said}, or map them with data.mask_values)"]  # fmt: skip
