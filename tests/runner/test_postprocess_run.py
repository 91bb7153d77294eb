"""The config's ``postprocess`` steps are applied by ``radpipe run``'s evaluation, ``radpipe
evaluate`` and ``radpipe predict``, and recorded.

The model is replaced by one that returns the truth spoiled in two ways the steps undo: a
stray pixel of lesion in a corner (largest component of the lesion class; the synthetic organ
is paired, two components) and a one-pixel hole in the organ (fill holes). After the steps the
prediction is the truth again, so the evaluation scores Dice 1; without them it cannot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import ConfigError
from pipeline.postprocess import Postprocess
from tests.runner.conftest import read_json, read_rows, seg_config
from workflows.cli import main
from workflows.report.sections import scored_section
from workflows.run import evaluate
from workflows.run.config import validate_config
from workflows.run.predict import predict_folder
from workflows.run.runner import run_study

STEPS = [{"type": "largest_component", "classes": [2]}, {"type": "fill_holes"}]


def spoil(mask: np.ndarray) -> np.ndarray:
    """``mask`` with a stray lesion pixel in the corner (if it has a lesion: else that pixel
    would be the largest lesion) and a hole inside the organ."""
    out = mask.copy()
    assert out[:2, :2].max() == 0, "the corner must be background"
    out[0, 0] = 2 if (mask == 2).any() else 0
    organ = mask == 1
    inner = organ[:-2, :-2] & organ[1:-1, :-2] & organ[2:, :-2] & organ[:-2, 1:-1]
    inner &= organ[1:-1, 1:-1] & organ[2:, 1:-1] & organ[:-2, 2:] & organ[1:-1, 2:] & organ[2:, 2:]
    ys, xs = np.nonzero(inner)
    if len(ys):  # an organ pixel whose 8 neighbours are organ too
        out[ys[0] + 1, xs[0] + 1] = 0
    return out


def _spoiled_truth(config: Any, checkpoint: Path, dataset: Any) -> np.ndarray:
    """(N, 3, H, W) one-hot maps of each item's spoiled mask (needs the masks)."""
    masks = [np.asarray(dataset.sample(i).mask, dtype=np.int64) for i in range(len(dataset))]
    clean = Postprocess.from_specs(STEPS)
    for m in masks:  # the truth itself is already clean: the steps leave it as it is
        np.testing.assert_array_equal(clean(m), m)
    spoiled = np.stack([spoil(m) for m in masks])
    return np.eye(3, dtype=np.float32)[spoiled].transpose(0, 3, 1, 2)


@pytest.fixture(scope="module")
def post_run(
    mr_seg: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: Any
) -> Path:
    raw = seg_config(mr_seg, tmp_path_factory.mktemp("runs"), [{"type": "z_score"}])
    raw |= {"postprocess": STEPS, "evaluate": {"bootstrap": 0, "explain": 0}}
    monkeypatch_module.setattr(evaluate, "predict_with_checkpoint", _spoiled_truth)
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    return outcome.run_dir


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_run_evaluation_scores_the_post_processed_masks(post_run: Path) -> None:
    metrics = read_json(post_run / "metrics.json")
    assert metrics["summary"]["dice_case_mean"] == pytest.approx(1.0)
    record = metrics["postprocess"]
    assert [s["type"] for s in record["steps"]] == ["largest_component", "fill_holes"]
    assert record["maps_changed"] == record["maps"] == metrics["num_slices"]
    assert record["pixels_changed"] > record["maps"]  # a corner pixel each, and some holes
    html = scored_section(metrics, [])  # the report says what was done
    assert "largest_component, then fill_holes: changed" in html


def test_external_evaluation_applies_them_too(post_run: Path, mr_seg: Path, tmp_path: Path) -> None:
    out = tmp_path / "ext"
    args = ["evaluate", str(post_run), str(mr_seg / "dicom"), "--labels",
            str(mr_seg / "labels.csv"), "--masks", str(mr_seg / "masks.csv"), "--out", str(out),
            "--quiet"]  # fmt: skip
    assert main(args) == 0
    metrics = read_json(out / "metrics.json")
    assert metrics["summary"]["dice_case_mean"] == pytest.approx(1.0)
    assert metrics["postprocess"]["maps_changed"] == metrics["postprocess"]["maps"] == 24


def _spoiled_prediction(config: Any, checkpoint: Path, dataset: Any) -> np.ndarray:
    """The same spoiled map for every item: a square of organ with a hole, a lesion and a
    stray lesion pixel."""
    maps = np.zeros((len(dataset), 32, 32), dtype=np.int64)
    maps[:, 8:16, 8:16] = 1
    maps[:, 11:13, 11:13] = 0  # the hole: 4 pixels
    maps[:, 20:23, 20:23] = 2
    maps[:, 28, 28] = 2  # the stray pixel
    return np.eye(3, dtype=np.float32)[maps].transpose(0, 3, 1, 2)


def test_predict_writes_post_processed_masks(
    post_run: Path, mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluate, "predict_with_checkpoint", _spoiled_prediction)
    result = predict_folder(post_run, mr_seg / "dicom", tmp_path / "pred", progress=False)
    expected = np.zeros((32, 32), dtype=np.uint8)
    expected[8:16, 8:16] = 1  # filled
    expected[20:23, 20:23] = 2  # and the stray pixel gone
    rows = read_rows(result.predictions)
    assert len(rows) == 24
    for r in rows:
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "pred" / r["mask"])),
                                      expected, err_msg=r["mask"])  # fmt: skip
        assert float(r["fraction_class1"]) == pytest.approx(64 / 1024)  # after the steps
    assert result.postprocess is not None
    assert (result.postprocess["maps_changed"], result.postprocess["pixels_changed"]) == (24, 120)


def test_postprocess_is_for_segmentation_and_names_valid_steps(
    mr_seg: Path, tmp_path: Path
) -> None:
    raw = seg_config(mr_seg, tmp_path, [])
    with pytest.raises(ConfigError, match=r"postprocess.*unknown type 'fill'.*fill_holes"):
        validate_config(raw | {"postprocess": [{"type": "fill"}]})
    with pytest.raises(ConfigError, match="has no parameter 'size'"):
        validate_config(raw | {"postprocess": [{"type": "fill_holes", "size": 3}]})
    raw |= {"task": "classification", "model": {"type": "mlp_classifier"}}
    with pytest.raises(ConfigError, match="segmentation only"):
        validate_config(raw | {"postprocess": STEPS})
