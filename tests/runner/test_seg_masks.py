"""DICOM SEG files named in a masks CSV: each image they cover gets its class-index mask.

The SEGs are written here with highdicom from the synthetic MR study's images (8 series of
3 slices of 32x32), from arrays drawn here; the masks the run's dataset reads must be those
arrays, segment number N as class N, and background on the slices the SEG leaves out.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from tests.runner.conftest import run_config_cli, seg_config
from tests.runner.test_nifti_masks_on_dicom import series_by_position
from workflows.run.config import validate_config
from workflows.run.study import make_dataset, prepare_study

TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
          "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber")  # fmt: skip


def _sources(study: Path) -> list[list[pydicom.Dataset]]:
    """Each series' images (with pixels), sorted along the slice normal."""
    out = []
    for items in series_by_position(study):
        full = [pydicom.dcmread(study / "dicom" / _file_of(study, ds)) for ds in items]
        for ds in full:
            for keyword in TYPE2:
                if keyword not in ds:
                    setattr(ds, keyword, "")
        out.append(full)
    return out


def _file_of(study: Path, ds: pydicom.Dataset) -> Path:
    for f in (study / "dicom").rglob("*.dcm"):
        if pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID == ds.SOPInstanceUID:
            return f.relative_to(study / "dicom")
    raise AssertionError("no file")


def write_seg(path: Path, images: list[pydicom.Dataset], arr: np.ndarray, kind: str = "BINARY",
              numbers: tuple[int, ...] = (1, 2)) -> Path:  # fmt: skip
    """A SEG of ``images`` holding ``arr`` (images, rows, columns, segments)."""
    segments = [
        hd.seg.SegmentDescription(
            segment_number=n, segment_label=f"s{n}",
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for n in numbers
    ]  # fmt: skip
    seg = hd.seg.Segmentation(
        source_images=images, pixel_array=arr, segmentation_type=kind,
        segment_descriptions=segments, series_instance_uid=hd.UID(), series_number=1,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="t",
        manufacturer_model_name="t", software_versions="1", device_serial_number="1",
        max_fractional_value=255 if kind == "FRACTIONAL" else 1,
    )  # fmt: skip
    seg.save_as(path)
    return path


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "truth").mkdir()
    return tmp_path / "truth"


def _masks_csv(folder: Path, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    with (folder / "masks.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([header or ["sop_instance_uid", "frame", "mask"], *rows])
    return folder / "masks.csv"


def _drawn(seed: int) -> np.ndarray:
    """Two slices of two non-overlapping segments: (2, 32, 32, 2) of 0 and 1."""
    rng = np.random.default_rng(seed)
    arr = np.zeros((2, 32, 32, 2), np.uint8)
    for i in range(2):
        r, c = rng.integers(0, 20, size=2)
        arr[i, r : r + 5, c : c + 6, 0] = 1
        arr[i, 25:30, 2 + 3 * i : 9 + 3 * i, 1] = 1  # below any first segment
    return arr


def _masks_by_instance(
    study: Path, masks: Path, tmp_path: Path, **data: Any
) -> dict[str, np.ndarray]:
    """Each image's mask as the run's dataset reads it (``data``: more ``data`` settings)."""
    raw = seg_config(study, tmp_path / "out", [])
    raw["data"] |= {"masks": str(masks), **data}
    config = validate_config(raw)
    (tmp_path / "run").mkdir(parents=True)
    prepared = prepare_study(config, tmp_path / "run", progress=False)
    dataset = make_dataset(prepared, config, [r["series_key"] for r in prepared.split], None)
    samples = [dataset.raw_sample(i) for i in range(len(dataset))]
    return {s.meta["id"]: np.asarray(s.mask) for s in samples}


@pytest.fixture(scope="module")
def sources(mr_seg: Path) -> list[list[pydicom.Dataset]]:
    return _sources(mr_seg)


def test_a_seg_per_series_gives_each_slice_its_segments_and_background_where_none(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """One row per SEG (no key, no frame); each SEG covers slices 0 and 2 of its series in
    two segments; slice 1 is referenced by no frame."""
    folder = _folder(tmp_path)
    rows, want = [], {}
    for n, images in enumerate(sources):
        arr = _drawn(n)
        write_seg(folder / f"s{n}.dcm", [images[0], images[2]], arr)
        rows.append(["", "", f"s{n}.dcm"])
        for i, ds in zip((0, 2), arr, strict=True):
            want[hash_key(images[i].SOPInstanceUID)] = ds[..., 0] * 1 + ds[..., 1] * 2
        want[hash_key(images[1].SOPInstanceUID)] = np.zeros((32, 32), np.uint8)
    caplog.set_level("INFO", logger="radpipe")
    got = _masks_by_instance(mr_seg, _masks_csv(folder, rows), tmp_path)
    assert set(got) == set(want)
    for key, mask in want.items():
        assert np.array_equal(got[key], mask), key
    assert "masks.csv: 8 of the 24 images its DICOM SEGs cover hold no segment" in caplog.text


def test_fractional_segments_hold_pixels_of_at_least_one_half(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    images = sources[0]
    frac = np.zeros((3, 32, 32, 1), np.float32)
    frac[0, 4:8, 4:8, 0] = 0.6  # in
    frac[1, 4:8, 4:8, 0] = 0.3  # out
    frac[2, 10, 10:20, 0] = 1.0  # in
    write_seg(folder / "f.dcm", images, frac, "FRACTIONAL", (1,))
    rows = [["", "", "f.dcm"]]
    for n, other in enumerate(sources[1:]):  # the other series: empty binary SEGs
        write_seg(folder / f"e{n}.dcm", other, np.zeros((3, 32, 32, 1), np.uint8), numbers=(1,))
        rows.append(["", "", f"e{n}.dcm"])
    got = _masks_by_instance(mr_seg, _masks_csv(folder, rows), tmp_path)
    want = [np.zeros((32, 32), np.uint8) for _ in range(3)]
    want[0][4:8, 4:8] = 1
    want[2][10, 10:20] = 1
    for ds, mask in zip(images, want, strict=True):
        assert np.array_equal(got[hash_key(ds.SOPInstanceUID)], mask)


def _refused(study: Path, folder: Path, rows: list[list[Any]], tmp_path: Path) -> str:
    with pytest.raises(RadpipeError) as info:
        _masks_by_instance(study, _masks_csv(folder, rows), tmp_path)
    return str(info.value)


def test_overlapping_segments_are_refused_naming_them(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    arr = np.zeros((3, 32, 32, 2), np.uint8)
    arr[1, 3:6, 3:6, 0] = 1
    arr[1, 5:9, 5:9, 1] = 1  # 1 pixel in both: (5, 5)
    write_seg(folder / "o.dcm", sources[0], arr)
    said = _refused(mr_seg, folder, [["", "", "o.dcm"]], tmp_path)
    assert "o.dcm: segments 1 and 2 overlap on " in said
    assert "(1 pixels in two segments or more)" in said
    assert "(line 2)" in said


def _other_copy(ds: pydicom.Dataset) -> None:
    ds.SOPInstanceUID = hd.UID()


def _smaller(ds: pydicom.Dataset) -> None:
    ds.Rows = ds.Columns = 16
    ds.PixelData = bytes(16 * 16 * ds.BitsAllocated // 8)


@pytest.mark.parametrize(
    ("change", "size", "said"),
    [
        (_other_copy, 32, "x.dcm: 3 of the 3 images it references (ReferencedSeriesSequence) "
         "are not in data.source"),
        (_smaller, 16, "x.dcm: its frames are 16 x 16 (Rows x Columns) but its image "),
    ],
    ids=["images-not-in-the-data", "another-size"],
)  # fmt: skip
def test_a_seg_that_does_not_fit_the_data_is_refused(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path,
    change: Any, size: int, said: str,
) -> None:  # fmt: skip
    """A SEG of another copy of the series (other SOPInstanceUIDs), or of its images stored
    at 16 x 16 (the data's are 32 x 32)."""
    folder = _folder(tmp_path)
    images = [copy.deepcopy(ds) for ds in sources[0]]  # the module's sources stay as read
    for ds in images:
        change(ds)
    write_seg(folder / "x.dcm", images, np.ones((3, size, size, 1), np.uint8), numbers=(1,))
    refusal = _refused(mr_seg, folder, [["", "", "x.dcm"]], tmp_path)
    assert said in refusal
    assert size == 32 or " is 32 x 32." in refusal


def test_a_dicom_file_that_is_not_a_seg_is_refused(mr_seg: Path, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    image = next((mr_seg / "dicom").rglob("*.dcm"))
    (folder / "im.dcm").write_bytes(image.read_bytes())
    said = _refused(mr_seg, folder, [["", "", "im.dcm"]], tmp_path)
    assert "im.dcm: not a DICOM Segmentation (SEG, PS3.3 A.51): its SOP class is MR Image " in said


def test_segment_numbers_beyond_the_class_names_are_refused(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    arr = np.zeros((3, 32, 32, 3), np.uint8)
    arr[0, 1:3, 1:3, 2] = 1  # segment 3 only
    write_seg(folder / "s3.dcm", sources[0], arr, numbers=(1, 2, 3))
    raw = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_masks_csv(folder, [["", "", "s3.dcm"]]))
    raw["data"]["class_names"] = ["background", "organ", "lesion"]
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError, match=r"1 of 1 mask holds a class beyond data\.class_names"):
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)


def _png_rows(study: Path, folder: Path, leave: set[str]) -> list[list[Any]]:
    """The study's own PNG mask rows (masks relative to ``folder``), but for ``leave``'s."""
    with (study / "masks.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [[r["sop_instance_uid"], r["frame"], str(study / r["mask"])]
            for r in rows if r["sop_instance_uid"] not in leave]  # fmt: skip


def test_a_seg_placed_by_position_alone_with_png_masks_of_the_other_series(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    """No source references (FrameOfReferenceUID and plane positions only): slices 0 and 1
    get the SEG's frames, slice 2 (beyond its frames) background; the other series keep
    their PNG masks."""
    folder = _folder(tmp_path)
    images = sources[0]
    arr = np.zeros((2, 32, 32, 2), np.uint8)
    arr[0, 2:9, 3:5, 1] = 1
    arr[1, 20:22, 20:30, 0] = 1
    seg = pydicom.dcmread(write_seg(folder / "p.dcm", images[:2], arr))
    for group in seg.PerFrameFunctionalGroupsSequence:
        del group.DerivationImageSequence
    del seg.ReferencedSeriesSequence
    seg.save_as(folder / "p.dcm")
    uids = {ds.SOPInstanceUID for ds in images}
    rows = [["", "", "p.dcm"], *_png_rows(mr_seg, folder, uids)]
    got = _masks_by_instance(mr_seg, _masks_csv(folder, rows), tmp_path)
    assert len(got) == 24
    want = [arr[0, ..., 1] * 2, arr[1, ..., 0] * 1, np.zeros((32, 32), np.uint8)]
    for ds, mask in zip(images, want, strict=True):
        assert np.array_equal(got[hash_key(ds.SOPInstanceUID)], mask)
    assert got[hash_key(sources[1][0].SOPInstanceUID)].max() > 0  # a PNG mask, not empty


def test_a_file_keyed_row_names_its_seg_for_an_image_of_the_series(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    """A ``file``-keyed CSV listing the SEG for one image of each series; a row naming an
    image of another series is refused naming its line."""
    folder = _folder(tmp_path)
    rows, want = [], {}
    for n, images in enumerate(sources):
        arr = np.zeros((3, 32, 32, 1), np.uint8)
        arr[n % 3, n : n + 4, 5:9, 0] = 1
        write_seg(folder / f"s{n}.dcm", images, arr, numbers=(1,))
        rows.append([_file_of(mr_seg, images[0]).as_posix(), f"s{n}.dcm"])
        for ds, a in zip(images, arr, strict=True):
            want[hash_key(ds.SOPInstanceUID)] = a[..., 0]
    got = _masks_by_instance(mr_seg, _masks_csv(folder, rows, ["file", "mask"]), tmp_path / "a")
    assert set(got) == set(want)
    assert all(np.array_equal(got[k], m) for k, m in want.items())
    rows[1][0] = rows[0][0]  # s1.dcm listed for an image of series 0
    with pytest.raises(RadpipeError) as info:
        _masks_by_instance(mr_seg, _masks_csv(folder, rows, ["file", "mask"]), tmp_path / "b")
    assert f"s1.dcm (line 3): its row names {rows[0][0]}, which is not in a series the SEG " in str(
        info.value
    )


def test_radpipe_run_trains_and_evaluates_on_seg_masks(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    """``radpipe run`` (a subprocess) over a masks CSV of one SEG row per series."""
    folder = _folder(tmp_path)
    rows = []
    for n, images in enumerate(sources):
        write_seg(folder / f"s{n}.dcm", [images[0], images[2]], _drawn(n))
        rows.append(["", "", f"s{n}.dcm"])
    raw = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_masks_csv(folder, rows))
    run_config_cli(raw, tmp_path)
    (run,) = (tmp_path / "out").glob("*/metrics.json")
    metrics = json.loads(run.read_text())
    assert 0.0 <= metrics["summary"]["dice_dataset_macro"] <= 1.0  # scored on the SEG masks
    assert (run.parent / "checkpoints").is_dir()
    table = run.parent / "truth" / "masks_from_seg.csv"
    with table.open(newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert len(listed) == 24  # 16 slices the SEGs reference, 8 they leave out
    assert {r["csv_line"] for r in listed} == {str(n + 2) for n in range(8)}


def test_two_segs_of_one_series_are_refused_naming_both(
    mr_seg: Path, sources: list[list[pydicom.Dataset]], tmp_path: Path
) -> None:
    """Two readers' SEGs of one series: which is its truth is the user's choice."""
    folder = _folder(tmp_path)
    for n in (0, 1):
        write_seg(folder / f"r{n}.dcm", sources[0], np.ones((3, 32, 32, 1), np.uint8), numbers=(1,))
    said = _refused(mr_seg, folder, [["", "", "r0.dcm"], ["", "", "r1.dcm"]], tmp_path)
    assert "r1.dcm (line 3): r0.dcm covers 3 of its images too (" in said
    assert "): one mask per image" in said
