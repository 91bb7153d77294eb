"""Evaluation a reviewer would accept: reproductions 09, 10 and 12, volumes and patients as the
case unit, intervals, calibration and the operating point."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.metrics import NonFiniteScoresError
from workflows.report.results import (
    SegmentationCase,
    evaluate_classification,
    evaluate_segmentation,
)

monai_metrics = pytest.importorskip("monai.metrics")


# --- reproduction 09: NaN scores --------------------------------------------------------------
def test_nan_probabilities_are_an_error_not_a_prediction() -> None:
    y3 = np.array([0, 1, 2, 0, 2, 1])
    s3 = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, np.nan],
         [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]
    )  # fmt: skip
    with pytest.raises(NonFiniteScoresError, match="1 of 6 samples"):
        evaluate_classification(y3, s3, ["a", "b", "c"])
    all_nan = np.full((4, 2), np.nan)
    with pytest.raises(NonFiniteScoresError, match="4 of 4 samples"):
        evaluate_classification(np.array([0, 0, 1, 1]), all_nan, ["neg", "pos"])


# --- reproduction 10: failed cases counted next to the mean -------------------------------------
def _missed_structure_cases() -> list[tuple[str, np.ndarray, np.ndarray, tuple[float, float]]]:
    z = lambda: np.zeros((32, 32), np.int64)  # noqa: E731
    ta, pa, tb, pb, tc, pc = z(), z(), z(), z(), z(), z()
    ta[8:16, 8:16] = 1
    pa[9:17, 8:16] = 1  # one row off: HD95 1 mm
    tb[20:26, 20:26] = 1  # missed: prediction empty
    pc[0:2, 0:2] = 1  # false positive on an empty truth
    return [(k, t, p, (1.0, 1.0)) for k, t, p in (("a", ta, pa), ("b", tb, pb), ("c", tc, pc))]


def test_hd95_failures_are_counted_and_the_diagonal_policy_scores_them() -> None:
    m = evaluate_segmentation(_missed_structure_cases(), 2, ["background", "lesion"],
                              n_resamples=0)  # fmt: skip
    s = m["summary"]
    assert s["hd95_mean"] == 1.0 and s["hd95_n"] == 1 and s["hd95_failed"] == 2
    assert m["per_class"]["lesion"]["hd95_failed"] == 2
    assert s["dice_case_mean"] == pytest.approx((2 * 56 / 128 + 0 + 0) / 3)  # 0.292
    assert m["distance_unit"] == "mm" and "counted" in m["policy"]["surface_failures"]
    diag = evaluate_segmentation(_missed_structure_cases(), 2, ["background", "lesion"],
                                 failures="diagonal", n_resamples=0)  # fmt: skip
    assert round(diag["summary"]["hd95_mean"], 2) == 30.50
    assert diag["summary"]["hd95_failed"] == 2 and diag["summary"]["hd95_n"] == 3


# --- reproduction 12: the sample's real (z, y, x) spacing reaches the distances ----------------
def _aniso_volume() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:32, :32]
    disc = (yy - 16) ** 2 + (xx - 15) ** 2 <= 25
    true = np.zeros((6, 32, 32), np.int64)
    true[1:5] = disc
    pred = np.roll(true, 1, axis=2)  # one column off in-plane
    return true, pred


@pytest.mark.filterwarnings("ignore::FutureWarning")  # MONAI 1.6 deprecation notice
def test_series_spacing_gives_millimetres_and_unknown_spacing_gives_labelled_voxels() -> None:
    true, pred = _aniso_volume()
    t = lambda a: torch.tensor(a)[None, None].float()  # noqa: E731
    hd_mm = monai_metrics.compute_hausdorff_distance(t(pred), t(true), percentile=95,
                                                     spacing=(4.0, 0.5, 0.5)).item()  # fmt: skip
    hd_vox = monai_metrics.compute_hausdorff_distance(t(pred), t(true), percentile=95).item()
    assert hd_mm == pytest.approx(0.5) and hd_vox == pytest.approx(1.0)
    case = SegmentationCase("s1", true, pred, spacing=(4.0, 0.5, 0.5), patient="p1")
    m = evaluate_segmentation([case], 2, ["background", "lesion"], n_resamples=0)
    assert m["distance_unit"] == "mm" and m["summary"]["hd95_mean"] == pytest.approx(hd_mm)
    # a stacked series without its slice spacing: no distance is labelled mm
    unknown = SegmentationCase("s1", true, pred, spacing=(math.nan, 0.5, 0.5), patient="p1")
    v = evaluate_segmentation([unknown], 2, ["background", "lesion"], n_resamples=0)
    assert (
        v["distance_unit"] == "voxel"
        and "voxels of the preprocessed grid" in v["policy"]["surface"]
    )
    assert v["summary"]["hd95_mean"] == pytest.approx(hd_vox)


def test_evaluation_uses_each_samples_spacing_from_its_meta(tmp_path: object) -> None:
    """The run's scoring step takes spacing from every sample's meta (after preprocessing)."""
    from workflows.run.config import validate_config
    from workflows.run.evaluate import Predictions, _score
    from workflows.run.study import Study

    true, pred = _aniso_volume()
    probs = np.stack([1 - pred, pred], axis=0).astype(np.float32)[None]  # (1, K, D, H, W)
    config = validate_config({"task": "segmentation", "data": {"source": "."},
                              "model": {"type": "unet", "spatial_dims": 3}})  # fmt: skip
    study = Study(root=tmp_path, kind="dicom", fingerprint="", class_names=[],  # type: ignore[arg-type]
                  split=[{"series_key": "s1", "patient_key": "p1", "split": "test"}])  # fmt: skip
    meta = {"series_key": "s1", "patient_key": "p1", "spacing": (4.0, 0.5, 0.5)}
    p = Predictions(probs=probs, truth=true[None], ids=["s1"], images=[true[None]], meta=[meta])
    m = _score(config, study, p, None, None)
    assert m["distance_unit"] == "mm" and m["summary"]["hd95_mean"] == pytest.approx(0.5)
    p.meta = [{**meta, "spacing": (math.nan, 0.5, 0.5)}]
    assert _score(config, study, p, None, None)["distance_unit"] == "voxel"


def test_evaluation_stacks_2d_slices_with_their_slice_spacing(tmp_path: object) -> None:
    """The run's scoring step passes each 2-D slice's index and its volume's slice step
    (manifest ``slice_spacing``): the six slices are scored as one volume of (2.5, 0.5, 0.5)
    mm, HD95 0.5 mm as MONAI gives (above); without the step, in voxels."""
    from workflows.run.config import validate_config
    from workflows.run.evaluate import Predictions, _score
    from workflows.run.study import Study

    true, pred = _aniso_volume()
    probs = np.stack([1 - pred, pred], axis=1).astype(np.float32)  # (6, K, H, W)
    config = validate_config({"task": "segmentation", "data": {"source": "."},
                              "model": {"type": "unet"}})  # fmt: skip
    study = Study(root=tmp_path, kind="dicom", fingerprint="", class_names=[],  # type: ignore[arg-type]
                  split=[{"series_key": "s1", "patient_key": "p1", "split": "test"}])  # fmt: skip
    meta = [{"series_key": "s1", "patient_key": "p1", "spacing": (0.5, 0.5), "slice_index": k,
             "slice_spacing": 2.5} for k in range(6)]  # fmt: skip
    p = Predictions(probs=probs, truth=true, ids=[f"i{k}" for k in range(6)],
                    images=[t[None] for t in true], meta=meta)  # fmt: skip
    m = _score(config, study, p, None, None)
    assert m["case_unit"] == "volume" and m["num_cases"] == 1
    assert m["distance_unit"] == "mm" and m["summary"]["hd95_mean"] == pytest.approx(0.5)
    assert m["policy"]["surface_failure_policy"] == "exclude"  # the config's default
    config.evaluate.surface_failures = "diagonal"  # and the config's choice reaches scoring
    assert _score(config, study, p, None, None)["policy"]["surface_failure_policy"] == "diagonal"


# --- the case unit: volumes and patients, slices secondary --------------------------------------
def test_slices_are_scored_as_their_volume_and_patient() -> None:
    lesion = np.zeros((8, 8), np.int64)
    lesion[2:4, 2:4] = 1
    fp = np.zeros((8, 8), np.int64)
    fp[6, 6] = 1  # one false-positive pixel on a lesion-free slice
    empty = np.zeros((8, 8), np.int64)
    cases = [
        SegmentationCase("i1", lesion, lesion, (0.5, 0.5), "p1", "s1", 0),
        SegmentationCase("i2", empty, fp, (0.5, 0.5), "p1", "s1", 1),
        SegmentationCase("i3", lesion, lesion, (0.5, 0.5), "p2", "s2", 0),
    ]
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    assert m["case_unit"] == "volume" and m["num_cases"] == 2 and m["num_slices"] == 3
    vol = {r["id"]: r for r in m["per_case"]}
    assert vol["s1"]["dice"]["lesion"] == pytest.approx(8 / 9)  # 2*4 / (2*4 + 1)
    assert m["summary"]["dice_case_mean"] == pytest.approx((8 / 9 + 1) / 2)
    assert m["summary"]["dice_patient_mean"] == pytest.approx((8 / 9 + 1) / 2)
    assert [s["dice_macro"] for s in m["per_slice"]] == [1.0, 0.0, 1.0]  # secondary table
    # a 2-D stack has no slice spacing: its volume distances are in labelled voxels
    assert m["distance_unit"] == "voxel" and m["slices"]["distance_unit"] == "mm"


def test_segmentation_intervals_resample_patients() -> None:
    rng = np.random.default_rng(0)
    cases = []
    for i in range(6):
        true = np.zeros((4, 12, 12), np.int64)
        true[1:3, 3:9, 3:9] = 1
        pred = np.roll(true, int(rng.integers(0, 3)), axis=2)
        cases.append(SegmentationCase(f"s{i}", true, pred, (2.0, 1.0, 1.0), f"p{i // 2}"))
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=200, seed=3)
    ci = m["intervals"]["dice_case_mean"]
    assert ci["n_groups"] == 3 and ci["n_resamples"] == 200 and ci["seed"] == 3
    assert ci["low"] <= m["summary"]["dice_case_mean"] <= ci["high"]
    assert "patients" in ci["method"] and "hd95_mean" in m["intervals"]
    # evaluate.confidence reaches the bootstrap: the same resamples give a nested 80% interval
    m80 = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=200, seed=3,
                                level=0.8)  # fmt: skip
    for key in ("dice_case_mean", "hd95_mean"):
        wide, narrow = m["intervals"][key], m80["intervals"][key]
        assert (wide["level"], narrow["level"]) == (0.95, 0.8)
        assert wide["low"] <= narrow["low"] <= narrow["high"] <= wide["high"]


# --- classification: intervals, calibration, operating point, mistakes -------------------------
def test_binary_classification_reports_what_a_reviewer_asks_for() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    true = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
    p1 = np.array([0.1, 0.3, 0.55, 0.95, 0.6, 0.7, 0.4, 0.9, 0.2, 0.8])
    probs = np.stack([1 - p1, p1], axis=1)
    val_true = np.array([0, 0, 0, 1, 1, 1, 1])
    val_p = np.array([0.1, 0.5, 0.7, 0.4, 0.6, 0.8, 0.9])  # Youden: threshold 0.8
    m = evaluate_classification(
        true, probs, ["neg", "pos"], patients=[f"p{i // 2}" for i in range(10)],
        validation=(val_true, np.stack([1 - val_p, val_p], axis=1)), n_resamples=100,
    )  # fmt: skip
    assert m["summary"]["roc_auc_macro"] == pytest.approx(sk.roc_auc_score(true, p1))
    assert m["summary"]["average_precision_macro"] == pytest.approx(
        sk.average_precision_score(true, p1)
    )
    assert m["summary"]["brier"] == pytest.approx(sk.brier_score_loss(true, p1))
    delong = m["intervals"]["roc_auc_delong"]
    assert delong["method"].startswith("DeLong")
    assert (delong["n_positive"], delong["n_negative"]) == (5, 5)
    assert delong["estimate"] == pytest.approx(sk.roc_auc_score(true, p1))
    assert m["intervals"]["accuracy"]["n_groups"] == 5 and m["num_patients"] == 5
    # argmax (p >= 0.5): negatives 0 0 1 1 0, positives 1 1 0 1 1; rows normalised by truth
    assert m["confusion_matrix"] == [[3, 2], [1, 4]]
    np.testing.assert_allclose(m["confusion_matrix_by_true"], [[0.6, 0.4], [0.2, 0.8]])
    op = m["operating_point"]
    assert op["threshold"] == 0.8 and op["chosen_on"] == "validation split"
    # test cases called positive at p >= 0.8: 0.95 (neg), 0.9, 0.8 (pos)
    assert op["test_confusion_matrix"] == [[4, 1], [3, 2]]
    # of it: sensitivity 2/5, specificity 4/5, precision 2/3 (a swap of any two goes red);
    # validation at 0.8: positives 0.8, 0.9 of 4 called, no negative: 1/2 and 1
    assert (op["test_sensitivity"], op["test_specificity"]) == pytest.approx((0.4, 0.8))
    assert op["test_precision"] == pytest.approx(2 / 3)
    assert (op["validation_sensitivity"], op["validation_specificity"]) == (0.5, 1.0)
    worst = m["most_confident_mistakes"][0]
    assert (worst["index"], worst["probability"]) == (3, 0.95)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # MONAI 1.6 deprecation notice
def test_stacked_slices_of_one_evenly_spaced_volume_give_millimetres() -> None:
    """2-D slices with their volume's slice step (manifest slice_spacing) and their in-plane
    spacing after preprocessing: the stacked volume is scored in mm, as MONAI scores the same
    volume with spacing (2.5, 0.5, 0.5); a gap or mixed spacings keep labelled voxels."""
    true, pred = _aniso_volume()
    t = lambda a: torch.tensor(a)[None, None].float()  # noqa: E731
    hd_mm = monai_metrics.compute_hausdorff_distance(t(pred), t(true), percentile=95,
                                                     spacing=(2.5, 0.5, 0.5)).item()  # fmt: skip

    def slices(step: float | None, planes: list[tuple[float, float]], order: list[int]) -> list:
        return [SegmentationCase(f"i{k}", true[k], pred[k], planes[k], "p1", "s1", k, step)
                for k in order]  # fmt: skip

    even = [(0.5, 0.5)] * 6
    m = evaluate_segmentation(slices(2.5, even, [3, 0, 5, 1, 4, 2]), 2,
                              ["background", "lesion"], n_resamples=0)  # fmt: skip
    assert m["distance_unit"] == "mm" and m["summary"]["hd95_mean"] == pytest.approx(hd_mm)
    assert hd_mm == pytest.approx(0.5)
    for cases in (slices(2.5, even, [0, 1, 2, 4, 5]),  # slice 3 missing: a gap
                  slices(None, even, list(range(6))),  # uneven slice steps: no one step
                  slices(2.5, [(0.5, 0.5)] * 5 + [(0.6, 0.5)], list(range(6)))):  # fmt: skip
        v = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
        assert v["distance_unit"] == "voxel"


def test_overlays_show_the_best_then_the_worst_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """``report.overlays: 4``: the two cases of highest macro Dice (best first), then the two
    lowest, a hidden (burned-in) case and one without a Dice left out."""
    from workflows.report import plots
    from workflows.run.evaluate import Predictions, _overlays

    shown: list[tuple[str, float]] = []

    def capture(cases: list[tuple], *args: object, **kwargs: object) -> None:
        shown.extend((c[0], c[4]) for c in cases)

    monkeypatch.setattr(plots, "plot_overlays", capture)
    dice = {"a": 0.5, "b": 0.9, "c": 0.1, "d": 0.7, "e": 0.95, "f": 0.3, "g": None}
    ids = list(dice)
    blank = np.zeros((2, 2), np.int64)
    p = Predictions(probs=np.zeros((7, 2, 2, 2)), truth=np.stack([blank] * 7), ids=ids,
                    images=[blank[None]] * 7, meta=[{} for _ in ids], hidden={4})  # fmt: skip
    rows = [{"id": i, "dice_macro": d} for i, d in dice.items()]
    _overlays({"per_case": rows}, p, np.stack([blank] * 7), ["bg", "x"], 4, Path("unused"))
    # "e" (0.95) is hidden: best 0.9 (b), 0.7 (d); worst 0.1 (c), 0.3 (f)
    assert shown == [("b", 0.9), ("d", 0.7), ("c", 0.1), ("f", 0.3)]
