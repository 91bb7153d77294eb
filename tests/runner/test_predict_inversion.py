"""``radpipe predict`` writes segmentation masks on the source pixels after crop, pad,
foreground crop and resize (issue 13, item 2), as PNG and as DICOM SEG frames.

The model is replaced by a perfect one: it thresholds the preprocessed image. A threshold of
the converted source image, worked out here, is then exactly what must come back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.data.io import load_image
from tests.runner.conftest import read_rows, seg_config
from workflows.run import evaluate
from workflows.run.config import validate_config
from workflows.run.predict import predict_folder
from workflows.run.runner import run_study

THRESHOLD = 0.45
PREPROCESS = [
    {"type": "crop_foreground", "threshold": THRESHOLD, "margin": 1},
    {"type": "crop_or_pad", "shape": [36, 36]},
    {"type": "resize", "shape": [72, 72], "order": 0},
]


def _thresholding(config: Any, checkpoint: Path, dataset: Any) -> np.ndarray:
    """(N, 3, H, W) one-hot maps of ``image > THRESHOLD`` (class 1) in model space."""
    masks = np.stack([(dataset[i]["image"][0].numpy() > THRESHOLD) for i in range(len(dataset))])
    return np.eye(3, dtype=np.float32)[masks.astype(np.int64)].transpose(0, 3, 1, 2)


@pytest.fixture(scope="module")
def seg_run(mr_seg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = seg_config(mr_seg, tmp_path_factory.mktemp("runs"), PREPROCESS)
    return run_study(validate_config(raw), progress=False).run_dir


def test_predicted_masks_land_on_the_source_pixels(
    seg_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = seg_run
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    out = tmp_path / "pred"
    predict_folder(run, mr_seg / "dicom", out, progress=False)
    rows = read_rows(out / "predictions.csv")
    assert len(rows) == 4 * 2 * 3
    manifest = {r["instance_key"]: r for r in read_rows(out / "converted" / "manifest.csv")}
    nonempty = 0
    for r in rows:
        source = load_image(out / "converted" / manifest[r["instance_key"]]["output"])[0]
        expected = (source > THRESHOLD).astype(np.uint8)
        written = np.asarray(Image.open(out / r["mask"]))
        np.testing.assert_array_equal(written, expected, err_msg=r["mask"])
        nonempty += int(expected.any() and not expected.all())
    assert nonempty >= len(rows) // 2  # the check is not trivially about empty masks

    import highdicom as hd

    first = rows[0]
    seg = hd.seg.segread(out / "seg" / first["patient_key"] / f"{first['series_key']}.dcm")
    same = [r for r in rows if r["series_key"] == first["series_key"]]
    uids = [ref[2] for ref in seg.get_source_image_uids()]
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids,
                                               combine_segments=True)  # fmt: skip
    written = sorted(np.asarray(Image.open(out / r["mask"])).tobytes() for r in same)
    assert sorted(f.astype(np.uint8).tobytes() for f in frames) == written


def test_dicom_seg_from_de_identified_sources(
    seg_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sources without PatientBirthDate/PatientSex (Type 2, often removed): the SEG is written
    with both present and empty (issue 13, item 10)."""
    import pydicom

    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    deid = tmp_path / "deid"
    files = sorted((mr_seg / "dicom").rglob("*.dcm"))[:6]
    for i, path in enumerate(files):
        ds = pydicom.dcmread(path)
        del ds.PatientBirthDate, ds.PatientSex
        deid.mkdir(exist_ok=True)
        ds.save_as(deid / f"{i}.dcm")
    out = tmp_path / "pred"
    predict_folder(seg_run, deid, out, progress=False)
    segs = sorted((out / "seg").rglob("*.dcm"))
    series = {r["series_key"] for r in read_rows(out / "predictions.csv")}
    assert len(segs) == len(series) >= 1
    for path in segs:
        seg = pydicom.dcmread(path)
        assert seg.PatientBirthDate == "" and seg.PatientSex == ""
        assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"  # Segmentation Storage


@pytest.mark.parametrize(("upsample", "order"), [("nearest", 0), ("linear", 1)])
def test_evaluate_upsample_sets_how_probabilities_go_back(
    upsample: str,
    order: int,
    seg_run: Path,
    mr_seg: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    import yaml

    from workflows.run import invert as invert_module

    run = tmp_path / "run"
    shutil.copytree(seg_run, run)
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["evaluate"]["upsample"] = upsample
    (run / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    orders: list[int] = []
    original = invert_module.invert

    def spy(array: np.ndarray, records: Any, fill: Any = 0, order: int = 0) -> np.ndarray:
        orders.append(order)
        return original(array, records, fill, order)

    monkeypatch.setattr(invert_module, "invert", spy)
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    predict_folder(run, mr_seg / "dicom", tmp_path / "pred", progress=False)
    assert orders and set(orders) == {order}


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")  # resizing the NaN map
def test_nan_probabilities_are_skipped_not_written_as_background(
    seg_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NaN probability map (an image the model overflows on) is no answer: its argmax is
    class 0 everywhere, which was written as an empty mask (and a DICOM SEG) without a word.
    Now the image is in skipped.csv with the reason and gets no mask; the others are written."""

    def nan_first(config: Any, checkpoint: Path, dataset: Any) -> np.ndarray:
        probs = _thresholding(config, checkpoint, dataset)
        probs[0] = np.nan
        return probs

    monkeypatch.setattr(evaluate, "predict_with_checkpoint", nan_first)
    out = tmp_path / "pred"
    result = predict_folder(seg_run, mr_seg / "dicom", out, progress=False)
    assert result.skipped == 1 and result.items == 4 * 2 * 3 - 1
    (skipped,) = read_rows(out / "skipped.csv")
    assert skipped["reason"].startswith("the model's probabilities are NaN or infinite (")
    assert "no prediction is made from them" in skipped["reason"]
    rows = read_rows(out / "predictions.csv")
    assert len(rows) == 4 * 2 * 3 - 1
    converted = read_rows(out / "converted" / "manifest.csv")
    predicted = {r["instance_key"] for r in rows}
    written = {r["output"] for r in converted if r["instance_key"] in predicted}
    assert skipped["output"] not in written and len(written) == len(rows)


def test_each_dicom_seg_frame_is_that_of_its_own_source_image(
    seg_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each SEG frame, looked up by the SOPInstanceUID it references, is the mask PNG of that
    image (the test above compares the frames as a set: frames given to the wrong slices of
    their series would pass it)."""
    import highdicom as hd

    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    out = tmp_path / "pred"
    predict_folder(seg_run, mr_seg / "dicom", out, progress=False, with_uids=True)
    rows = read_rows(out / "predictions.csv")
    checked = 0
    for series in sorted({r["series_key"] for r in rows}):
        same = [r for r in rows if r["series_key"] == series]
        seg = hd.seg.segread(out / "seg" / same[0]["patient_key"] / f"{series}.dcm")
        for r in same:
            (frame,) = seg.get_pixels_by_source_instance(
                source_sop_instance_uids=[r["sop_instance_uid"]], combine_segments=True
            )
            expected = np.asarray(Image.open(out / r["mask"]))
            np.testing.assert_array_equal(frame.astype(np.uint8), expected, err_msg=r["mask"])
            checked += int(expected.any())
    assert checked >= len(rows) // 2


def test_predicted_masks_as_one_nifti_label_map_per_series(
    seg_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``labels/<patient_key>/<series_key>.nii.gz``: uint8 class indices with the affine of
    the series converted by ``radpipe convert --format nifti``; each PNG mask is found in it at
    the slice its source's ImagePositionPatient gives through that affine (LPS -> RAS)."""
    import nibabel as nib
    import pydicom

    from workflows.cli import main

    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    out = tmp_path / "pred"
    predict_folder(seg_run, mr_seg / "dicom", out, progress=False)
    rows = read_rows(out / "predictions.csv")
    conv = tmp_path / "nifti"
    assert main(["convert", str(mr_seg / "dicom"), str(conv), "--format", "nifti"]) == 0
    images = {r["series_key"]: conv / r["output"] for r in read_rows(conv / "manifest.csv")}
    sources = {
        r["instance_key"]: r["source"] for r in read_rows(out / "converted" / "manifest.csv")
    }
    assert len({r["series_key"] for r in rows}) == 8
    classes: set[int] = set()
    for key in {r["series_key"] for r in rows}:
        same = [r for r in rows if r["series_key"] == key]
        label = nib.load(out / "labels" / same[0]["patient_key"] / f"{key}.nii.gz")
        image = nib.load(images[key])
        np.testing.assert_array_equal(label.affine, image.affine)
        assert label.get_data_dtype() == np.uint8 and label.shape == image.shape == (32, 32, 3)
        data = np.asarray(label.dataobj)
        to_voxel = np.linalg.inv(image.affine)
        for r in same:
            ds = pydicom.dcmread(mr_seg / "dicom" / sources[r["instance_key"]])
            x, y, z = (float(v) for v in ds.ImagePositionPatient)
            i, j, k = np.round(to_voxel @ [-x, -y, z, 1.0])[:3].astype(int)  # LPS -> RAS
            assert (i, j) == (0, 0)  # the first pixel of the slice
            png = np.asarray(Image.open(out / r["mask"]))
            np.testing.assert_array_equal(data[:, :, k].T, png, err_msg=r["mask"])  # (W, H)
            classes |= set(np.unique(png).tolist())
    assert classes == {0, 1}  # not trivially empty masks


def test_a_series_with_a_slice_not_predicted_gets_no_label_map_and_a_warning(
    mr_seg: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import pydicom

    from workflows.run.label_nifti import write_label_niftis

    every_file = sorted((mr_seg / "dicom").rglob("*.dcm"))
    series = pydicom.dcmread(every_file[0]).SeriesInstanceUID
    files = [p for p in every_file if pydicom.dcmread(p).SeriesInstanceUID == series]
    assert len(files) == 3
    rows = [{"patient_key": "p", "series_key": "s", "frame": "",
             "source": f.relative_to(mr_seg / "dicom").as_posix()} for f in files[:2]]  # fmt: skip
    with caplog.at_level("WARNING", logger="radpipe"):
        planes = [(r, np.zeros((32, 32), np.uint8)) for r in rows]
        every = {"s": [f.relative_to(mr_seg / "dicom").as_posix() for f in files]}
        written = write_label_niftis(tmp_path, mr_seg / "dicom", planes, every)
    assert written == [] and not list(tmp_path.rglob("*.nii.gz"))
    assert caplog.messages == [
        "no NIfTI label mask for 1 series of 1 (their PNG masks and DICOM SEG are written): "
        "series s: 1 slice of 3 not predicted"
    ]


def test_the_label_map_grid_is_planned_from_headers_alone(
    mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The label map's grid needs no pixels: every slice of the series was decoded again
    only to learn it (a series without repeats at one place: nothing for pixels to tell)."""
    import pydicom

    from pipeline.dicom import volume
    from workflows.run.label_nifti import write_label_niftis

    def decoded(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(volume, "load_series", decoded)
    every_file = sorted((mr_seg / "dicom").rglob("*.dcm"))
    series = pydicom.dcmread(every_file[0]).SeriesInstanceUID
    files = [p for p in every_file if pydicom.dcmread(p).SeriesInstanceUID == series]
    rows = [{"patient_key": "p", "series_key": "s", "frame": "",
             "source": f.relative_to(mr_seg / "dicom").as_posix()} for f in files]  # fmt: skip
    planes = [(r, np.zeros((32, 32), np.uint8)) for r in rows]
    (written,) = write_label_niftis(tmp_path, mr_seg / "dicom", planes)
    assert written == tmp_path / "p" / "s.nii.gz"
