"""Segmentation is scored on the source pixels: ``metrics.json``'s Dice is that of the masks
``radpipe predict`` writes for the same images, against the masks as given.

With a ``resize`` from 32x32 to 20x20 the model-grid figures (prediction and a truth resized
by nearest neighbour, both on 20x20) differ from those of the masks on the 32x32 images;
they were the headline until 2026-12-01. The model is replaced by a fixed one (threshold of
the preprocessed image) so that predict and evaluate see the same predictions; the expected
Dice is worked out here with numpy from predict's PNG masks and the truth PNGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.runner.conftest import read_json, read_rows, seg_config
from workflows.cli import main
from workflows.run import evaluate
from workflows.run.config import validate_config
from workflows.run.predict import predict_folder
from workflows.run.runner import run_study

THRESHOLD = 0.45


def _thresholding(config: Any, checkpoint: Path, dataset: Any) -> np.ndarray:
    """(N, 3, H, W) one-hot maps of ``image > THRESHOLD`` (class 1) in model space."""
    masks = np.stack([(dataset[i]["image"][0].numpy() > THRESHOLD) for i in range(len(dataset))])
    return np.eye(3, dtype=np.float32)[masks.astype(np.int64)].transpose(0, 3, 1, 2)


@pytest.fixture(scope="module")
def resized_run(mr_seg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = seg_config(mr_seg, tmp_path_factory.mktemp("runs"),
                     [{"type": "resize", "shape": [20, 20], "order": 1}])  # fmt: skip
    return run_study(validate_config(raw), progress=False).run_dir


def _pooled_dice(pairs: list[tuple[np.ndarray, np.ndarray]], classes: range) -> float:
    """Macro over ``classes`` of the Dice of voxel counts pooled over every pair."""
    dice = []
    for c in classes:
        both = sum(int(np.sum((t == c) & (p == c))) for t, p in pairs)
        sizes = sum(int(np.sum(t == c)) + int(np.sum(p == c)) for t, p in pairs)
        if sizes:
            dice.append(2 * both / sizes)
    return float(np.mean(dice))


def test_external_evaluation_scores_the_masks_predict_writes(
    resized_run: Path,
    mr_seg: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    out = tmp_path / "eval"
    assert main(["evaluate", str(resized_run), str(mr_seg / "dicom"), "--masks",
                 str(mr_seg / "masks.csv"), "--out", str(out), "--quiet"]) == 0  # fmt: skip
    metrics = read_json(out / "metrics.json")
    predict_folder(resized_run, mr_seg / "dicom", tmp_path / "pred", progress=False,
                   with_uids=True)  # fmt: skip
    truth = {r["sop_instance_uid"]: mr_seg / r["mask"] for r in read_rows(mr_seg / "masks.csv")}
    pairs = []
    for row in read_rows(tmp_path / "pred" / "predictions.csv"):
        predicted = np.asarray(Image.open(tmp_path / "pred" / row["mask"]))
        true = np.asarray(Image.open(truth[row["sop_instance_uid"]]))
        assert predicted.shape == true.shape == (32, 32)
        pairs.append((true, predicted))
    assert len(pairs) == 4 * 2 * 3
    expected = _pooled_dice(pairs, range(1, 3))
    assert metrics["grid"] == "source"
    assert metrics["summary"]["dice_dataset_macro"] == pytest.approx(expected, abs=1e-9)
    on_grid = metrics["model_grid"]["summary"]["dice_dataset_macro"]
    assert abs(on_grid - expected) > 1e-3  # the two grids really differ here
    assert "source images' own pixels" in metrics["policy"]["grid"]
    # the default evaluate.upsample, said: a hand check resizing linearly gets other figures
    assert metrics["policy"]["grid"].endswith("by nearest neighbour (evaluate.upsample: nearest)")
    grid = metrics["model_grid"]["summary"]
    assert (
        "(scored on the source pixels; on the preprocessed grid: dice_case_mean "
        f"{grid['dice_case_mean']:.3f}  dice_dataset_macro {on_grid:.3f})"
    ) in capsys.readouterr().out


def _per_fold(config: Any, checkpoint: Path, dataset: Any) -> np.ndarray:
    """Soft maps that differ by fold: class 1 with probability x (fold 0) or x**3 (fold 1)
    of the preprocessed image x, so the folds' mean decides other pixels than either."""
    x = np.clip(np.stack([dataset[i]["image"][0].numpy() for i in range(len(dataset))]), 0, 1)
    p1 = x**3 if "fold-1" in str(checkpoint) else x
    return np.stack([1 - p1, p1, np.zeros_like(p1)], axis=1).astype(np.float32)


def test_folds_are_averaged_on_the_source_pixels_as_predict_does(
    mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = seg_config(mr_seg, tmp_path / "runs", [{"type": "resize", "shape": [20, 20], "order": 1}])
    raw["split"] = {"test": 0.25, "folds": 2}
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _per_fold)
    run = run_study(validate_config(raw), progress=False).run_dir
    metrics = read_json(run / "metrics.json")
    predict_folder(run, mr_seg / "dicom", tmp_path / "pred", progress=False, with_uids=True)
    truth = {r["sop_instance_uid"]: mr_seg / r["mask"] for r in read_rows(mr_seg / "masks.csv")}
    tested = {r["series_key"] for r in read_rows(run / "split.csv") if r["split"] == "test"}
    pairs = [
        (np.asarray(Image.open(truth[r["sop_instance_uid"]])),
         np.asarray(Image.open(tmp_path / "pred" / r["mask"])))
        for r in read_rows(tmp_path / "pred" / "predictions.csv") if r["series_key"] in tested
    ]  # fmt: skip
    assert len(pairs) == 3 * len(tested) > 0
    expected = _pooled_dice(pairs, range(1, 3))
    assert metrics["summary"]["dice_dataset_macro"] == pytest.approx(expected, abs=1e-9)
    assert len(metrics["folds"]) == 2
    assert metrics["folds"][0]["dice_dataset_macro"] != metrics["folds"][1]["dice_dataset_macro"]


def test_without_a_geometric_stage_the_model_grid_is_the_source(
    mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stage changes the grid: one scoring, no ``model_grid`` block."""
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    raw = seg_config(mr_seg, tmp_path, [{"type": "z_score", "mode": "dataset"}])
    run = run_study(validate_config(raw), progress=False).run_dir
    metrics = read_json(run / "metrics.json")
    assert metrics["grid"] == "source" and "model_grid" not in metrics


def test_overlays_show_the_masks_where_they_were_scored(
    resized_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overlay figure shows the 32x32 source image, the truth PNG as given and the
    source-grid prediction: the Dice written beside each is that of these masks."""
    from workflows.report import plots

    shown: list[Any] = []
    monkeypatch.setattr(plots, "plot_overlays", lambda cases, *a, **k: shown.extend(cases))
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    out = tmp_path / "eval"
    assert main(["evaluate", str(resized_run), str(mr_seg / "dicom"), "--masks",
                 str(mr_seg / "masks.csv"), "--out", str(out), "--quiet"]) == 0  # fmt: skip
    truths = [np.asarray(Image.open(mr_seg / r["mask"])) for r in read_rows(mr_seg / "masks.csv")]
    assert shown
    for _, image, true, predicted, _ in shown:
        assert image.shape[-2:] == true.shape == predicted.shape == (32, 32)
        assert any(np.array_equal(true, t) for t in truths)


def test_a_stage_that_cannot_be_undone_is_scored_on_the_preprocessed_grid_and_said(
    resized_run: Path,
    mr_seg: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pipeline.errors import RadpipeError

    def cannot(*args: Any, **kwargs: Any) -> None:
        raise RadpipeError("Preprocessing stage 'warp' changes the geometry in a way radpipe "
                           "cannot undo.")  # fmt: skip

    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    monkeypatch.setattr(evaluate, "on_source", cannot)
    out = tmp_path / "eval"
    assert main(["evaluate", str(resized_run), str(mr_seg / "dicom"), "--masks",
                 str(mr_seg / "masks.csv"), "--out", str(out), "--quiet"]) == 0  # fmt: skip
    metrics = read_json(out / "metrics.json")
    assert metrics["grid"] == "preprocessed" and "model_grid" not in metrics
    assert metrics["policy"]["grid"].startswith("the preprocessed grid")
    said = "Segmentation scored on the preprocessed grid, not on the source pixels: Preprocessing"
    assert f"{said} stage 'warp'" in caplog.text


def test_a_second_evaluation_into_one_folder_leaves_no_figure_of_the_first(
    resized_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``radpipe evaluate`` into an --out used before redrew the ROC and overlays but kept the
    first evaluation's confusion matrix (drawn only when missing): a report of 10 new cases
    showed the matrix of 60 earlier ones. A PNG of the user's own stays."""
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _thresholding)
    out = tmp_path / "eval"
    args = ["evaluate", str(resized_run), str(mr_seg / "dicom"), "--masks",
            str(mr_seg / "masks.csv"), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    Image.new("L", (1, 1)).save(out / "plots" / "confusion_matrix.png")  # the earlier one
    Image.new("L", (2, 2)).save(out / "plots" / "mine.png")
    assert main(args) == 0
    # gone (the report, off in these runs, draws it anew from the new metrics.json)
    assert not (out / "plots" / "confusion_matrix.png").exists()
    assert (out / "plots" / "overlays.png").is_file()
    assert Image.open(out / "plots" / "mine.png").size == (2, 2)
