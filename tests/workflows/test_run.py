"""End-to-end runs of the shipped configs on small synthetic studies (a few epochs each)."""

from __future__ import annotations

import csv
import json
import shutil
import statistics
from pathlib import Path

import pydicom
import pytest

from pipeline.errors import RadpipeError
from pipeline.split import check_no_leak, read_split_csv
from pipeline.stage import Pipeline
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.run.config import load_config
from workflows.run.runner import run_study

CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.fixture(scope="module")
def cr_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cr")
    write_study(out, StudySpec(patients=40, modality="CR", size=32, series_per_patient=1))
    return out


@pytest.fixture(scope="module")
def ct_series_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ct")
    write_study(out, StudySpec(patients=16, modality="CT", size=24, slices=6))
    return out


@pytest.fixture(scope="module")
def mr_seg_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mr")
    write_study(out, StudySpec(patients=6, modality="MR", task="segmentation", size=32, slices=4))
    return out


def _overrides(study: Path, out: Path, *, masks: bool = False, epochs: int = 2) -> list[str]:
    items = [
        f"data.source={study / 'dicom'}",
        f"data.labels={study / 'labels.csv'}",
        f"output={out}",
        f"train.epochs={epochs}",
        "convert.workers=1",
    ]
    if masks:
        items.append(f"data.masks={study / 'masks.csv'}")
    return items


def _run(
    name: str, study: Path, out: Path, extra: list[str] | None = None, masks: bool = False
) -> Path:
    config = load_config(
        CONFIGS / f"{name}.yaml", _overrides(study, out, masks=masks) + (extra or [])
    )
    return run_study(config, progress=False).run_dir


def _assert_run_dir(run: Path) -> dict:
    for name in (
        "config.yaml",
        "provenance.json",
        "split.csv",
        "log.jsonl",
        "metrics.json",
        "report.html",
        "stages/pipeline.json",
        "checkpoints/best.pt",
    ):
        assert (run / name).exists(), name
    check_no_leak(run / "split.csv")
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["seed"] == 0 and provenance["versions"]["torch"].startswith("2.")
    assert len(provenance["input_fingerprint"]) == 20
    metrics = json.loads((run / "metrics.json").read_text())
    assert (
        metrics["num_cases"]
        == sum(1 for r in read_split_csv(run / "split.csv") if r["split"] == "test")
        or metrics["task"] == "segmentation"
    )
    return metrics


@pytest.mark.parametrize("name", ["xray_classify", "xray_classify_cnn", "xray_classify_resnet"])
def test_image_classification_configs(name: str, cr_study: Path, tmp_path: Path) -> None:
    # the ResNet config as shipped, narrower and shorter (its full run takes a minute here)
    short = ["train.epochs=2", "train.min_epochs=1", "model.widths=[4,8,8,16]"]
    short = short if name.endswith("resnet") else []
    run = _run(name, cr_study, tmp_path, ["split.test=0.3", *short])
    metrics = _assert_run_dir(run)
    assert metrics["task"] == "classification" and metrics["class_names"] == [
        "no_lesion",
        "round_lesion",
    ]
    # Accuracy as the share of test cases whose predicted class (the argmax of the stored
    # probabilities) is the true one, and one case per test series.
    cases = metrics["per_case"]
    right = sum(max(range(2), key=lambda k: c["probs"][k]) == c["true"] for c in cases)
    assert metrics["summary"]["accuracy"] == right / len(cases)
    assert sorted(c["true"] for c in cases) == sorted(
        r["label"] for r in read_split_csv(run / "split.csv") if r["split"] == "test"
    )


def test_series_recurrent_config(ct_series_study: Path, tmp_path: Path) -> None:
    run = _run("ct_series_recurrent", ct_series_study, tmp_path, ["data.slices=6"])
    metrics = _assert_run_dir(run)
    # One case per test series (not per slice).
    series = [r for r in read_split_csv(run / "split.csv") if r["split"] == "test"]
    assert metrics["num_cases"] == len(series)
    # data.slices fits the depth before the configured stages (they see 6 slices)
    steps = [type(stage).__name__ for _, stage in Pipeline.load(run / "stages").steps]
    assert steps == ["FitDepth", "ClipIntensity", "RescaleIntensity", "Resize"]


@pytest.mark.parametrize("name", ["mr_segment_mlp", "mr_segment_recurrent", "mr_segment_unet"])
def test_segmentation_configs(name: str, mr_seg_study: Path, tmp_path: Path) -> None:
    run = _run(name, mr_seg_study, tmp_path, ["preprocess.0.shape=[32,32]"], masks=True)
    metrics = _assert_run_dir(run)
    assert metrics["task"] == "segmentation" and metrics["policy"]["empty"] == "nan"
    assert metrics["class_names"] == ["background", "organ", "lesion"]
    assert (run / "plots" / "overlays.png").exists()


def test_same_seed_same_metrics_and_cached_conversion(cr_study: Path, tmp_path: Path) -> None:
    a = _run("xray_classify", cr_study, tmp_path)
    b = _run("xray_classify", cr_study, tmp_path)
    assert (a / "metrics.json").read_text() == (b / "metrics.json").read_text()
    assert json.loads((b / "provenance.json").read_text())["reused_conversion"] is True
    assert (a / "split.csv").read_text() == (b / "split.csv").read_text()


def test_kfold_reports_folds_and_ensemble(cr_study: Path, tmp_path: Path) -> None:
    run = _run("xray_classify", cr_study, tmp_path, ["split.folds=3", "split.test=0.25"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["folds"]) == 3
    folds = [f["accuracy"] for f in metrics["folds"]]
    assert metrics["cross_validation"]["accuracy"] == pytest.approx({
        "mean": statistics.fmean(folds), "std": statistics.pstdev(folds),  # ddof 0, as README
        "min": min(folds), "max": max(folds), "n": 3,
    })  # fmt: skip
    assert metrics["evaluated"].startswith("ensemble of 3")
    for k in range(3):
        assert (run / "folds" / f"fold-{k}" / "checkpoints" / "best.pt").exists()
    rows = read_split_csv(run / "split.csv")
    assert {r["fold"] for r in rows if r["split"] == "train"} == {0, 1, 2}


def test_resume_finishes_an_interrupted_run(cr_study: Path, tmp_path: Path) -> None:
    run = _run("xray_classify", cr_study, tmp_path)
    expected = (run / "metrics.json").read_text()
    # Interrupted after training started: no metrics, no report, no "training done" mark.
    for name in ("metrics.json", "report.html", "train_done.json"):
        (run / name).unlink()
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    assert (run / "metrics.json").read_text() == expected


def test_predict_writes_hashed_predictions(
    cr_study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = _run("xray_classify", cr_study, tmp_path)
    new = tmp_path / "new"
    write_study(new, StudySpec(patients=3, modality="CR", size=32, series_per_patient=1, seed=5))
    out = tmp_path / "pred"
    assert main(["predict", str(run), str(new / "dicom"), "--out", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 3
    assert set(rows[0]) >= {
        "patient_key",
        "series_key",
        "pred",
        "class_name",
        "prob_no_lesion",
        "prob_round_lesion",
    }
    text = (out / "predictions.csv").read_text()
    assert "SYNCR" not in text and "Synthetic" not in text  # no patient data
    for r in rows:
        assert abs(float(r["prob_no_lesion"]) + float(r["prob_round_lesion"]) - 1) < 1e-4
    # a model whose classes tie (0.5 / 0.5): 'pred' is class 0, as evaluate's argmax, and said
    import numpy as np

    import workflows.run.evaluate as evaluate_module

    tied = lambda config, checkpoint, items: [np.array([0.5, 0.5])] * len(items)  # noqa: E731
    monkeypatch.setattr(evaluate_module, "predict_with_checkpoint", tied)
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["predict", str(run), str(new / "dicom"), "--out", str(tmp_path / "tied")]) == 0
    rows = list(csv.DictReader((tmp_path / "tied" / "predictions.csv").open()))
    assert [r["pred"] for r in rows] == ["0"] * 3
    assert "3 of 3 rows tie on their top probability" in caplog.text


def test_predict_segmentation_masks(mr_seg_study: Path, tmp_path: Path) -> None:
    run = _run("mr_segment_mlp", mr_seg_study, tmp_path, ["preprocess.0.shape=[16,16]"], masks=True)
    out = tmp_path / "pred"
    assert (
        main(["predict", str(run), str(mr_seg_study / "dicom"), "--out", str(out), "--quiet"]) == 0
    )
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 6 * 2 * 4
    import numpy as np
    from PIL import Image

    mask = np.asarray(Image.open(out / rows[0]["mask"]))
    # Predicted at 16x16, written back at the original 32x32.
    assert mask.shape == (32, 32) and set(np.unique(mask)) <= {0, 1, 2}
    for row in rows:  # each class's share of the written mask's pixels
        counts = np.bincount(np.asarray(Image.open(out / row["mask"])).ravel(), minlength=3)
        shares = [float(v) for k, v in row.items() if k.startswith("fraction_")]
        np.testing.assert_allclose(shares, counts / 1024, atol=1e-6)
    # One DICOM SEG per series, referencing its source images; its frames are the PNG masks.
    import highdicom as hd

    segs = sorted((out / "seg").rglob("*.dcm"))
    assert len(segs) == 6 * 2
    first = rows[0]
    seg = hd.seg.segread(out / "seg" / first["patient_key"] / f"{first['series_key']}.dcm")
    assert seg.get_segment_numbers() == [1, 2]
    assert [seg.get_segment_description(k).segment_label for k in (1, 2)] == ["organ", "lesion"]
    same_series = [r for r in rows if r["series_key"] == first["series_key"]]
    by_sop = {}
    for r in same_series:
        path = out / r["mask"]
        by_sop[path.stem.split("_")[0]] = np.asarray(Image.open(path))
    source_uids = [ref[2] for ref in seg.get_source_image_uids()]
    assert len(source_uids) == 4
    labels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=source_uids, combine_segments=True
    )
    from pipeline.keys import hash_key

    for uid, plane in zip(source_uids, labels, strict=True):
        assert np.array_equal(plane, by_sop[hash_key(uid)])


def test_mask_rows_naming_no_converted_image_are_counted_and_said(
    mr_seg_study: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A masks CSV row whose image is not in the data is never used: the run says how many
    (a warning, and provenance.json), as it does for label rows."""
    study = tmp_path / "study"
    shutil.copytree(mr_seg_study, study)
    with (study / "masks.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and "sop_instance_uid" in rows[0]
    extra = [
        {**rows[0], "sop_instance_uid": "1.2.3.999"},  # an instance not in the data
        {**rows[0], "frame": "5"},
    ]  # a frame the (single-frame) image does not have
    with (study / "masks.csv").open("a", newline="") as fh:
        csv.DictWriter(fh, fieldnames=list(rows[0])).writerows(extra)
    with caplog.at_level("WARNING", logger="radpipe"):
        run = _run("mr_segment_mlp", study, tmp_path / "out", ["preprocess.0.shape=[16,16]"],
                   masks=True)  # fmt: skip
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["masks"] == {"mask_rows": len(rows) + 2, "mask_rows_not_in_data": 2}
    said = [r.getMessage() for r in caplog.records if "not in the converted data" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"2 of {len(rows) + 2} rows of masks.csv")
    assert "1.2.3.999" not in said[0]  # keys only, never the raw UID
    n = len(rows) + 1  # the header, then one line per row: the two appended rows' lines
    assert said[0].endswith(f"masks are not used (lines {n + 1}, {n + 2})")


def test_an_image_without_a_mask_row_stops_the_run_before_its_directory_naming_its_file(
    mr_seg_study: Path, tmp_path: Path
) -> None:
    study = tmp_path / "study"
    shutil.copytree(mr_seg_study, study)
    with (study / "masks.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    dropped = rows.pop(3)
    with (study / "masks.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(dropped))
        writer.writeheader()
        writer.writerows(rows)
    # the file that holds the dropped row's instance, found independently with pydicom
    source = next(p for p in (study / "dicom").rglob("*.dcm")
                  if pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID
                  == dropped["sop_instance_uid"])  # fmt: skip
    out = tmp_path / "out"
    with pytest.raises(RadpipeError) as err:
        _run("mr_segment_mlp", study, out, ["preprocess.0.shape=[16,16]"], masks=True)
    message = str(err.value)  # found from the headers, before the run directory (2026-12-03)
    assert f"masks.csv has no row for 1 of the {len(rows) + 1} images" in message
    assert (
        f"{source.relative_to(study / 'dicom').as_posix()} frame {dropped.get('frame') or 0}"
        in message
    )
    assert not out.exists()  # no run directory, nothing converted
