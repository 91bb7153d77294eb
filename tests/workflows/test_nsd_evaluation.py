"""Normalized surface Dice (NSD) in the segmentation evaluation: ``evaluate.nsd_tolerance_mm``
checked in the config, HD95 / MSD / NSD from one surface-distance computation per volume
and class, the figures equal to MONAI's ``compute_surface_dice`` and
``compute_hausdorff_distance`` on anisotropic volumes, and metrics.json and the report say
the tolerance and its unit (NSD was in the library only)."""

from __future__ import annotations

import json
import re
import warnings
from html import unescape
from pathlib import Path

import numpy as np
import pytest

import pipeline.metrics.surface as surface_module
from workflows.report.results import evaluate_segmentation, write_metrics, write_report
from workflows.run.summary import headline

SPACING = (2.5, 0.8, 1.3)  # (z, y, x) mm


def _volumes() -> list[tuple[str, np.ndarray, np.ndarray, tuple[float, ...]]]:
    rng = np.random.default_rng(3)
    cases = []
    for i in range(3):
        true = np.zeros((6, 14, 12), np.int64)
        true[1:5, 3:10, 2:8] = 1
        true[2:4, 5:8, 8:11] = 2
        pred = np.roll(true, int(rng.integers(1, 3)), axis=1 + i % 2)
        pred[rng.random(true.shape) < 0.03] = 1  # scattered false positives
        if i == 2:
            pred[pred == 2] = 0  # class 2 missed: HD95 infinite, NSD 0
        cases.append((f"v{i}", true, pred, SPACING))
    return cases


def _monai(true: np.ndarray, pred: np.ndarray, tol: float) -> tuple[list[float], list[float]]:
    import torch
    from monai.metrics import compute_hausdorff_distance, compute_surface_dice

    onehot = lambda m: torch.nn.functional.one_hot(torch.from_numpy(m), 3).movedim(-1, 0)[None]  # noqa: E731
    y, y_pred = onehot(true).float(), onehot(pred).float()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MONAI warns of the missed class
        nsd = compute_surface_dice(y_pred, y, [tol, tol], spacing=SPACING)
        hd = compute_hausdorff_distance(y_pred, y, percentile=95, spacing=list(SPACING))
    return [float(v) for v in nsd[0]], [float(v) for v in hd[0]]


def test_nsd_and_hd95_are_monais_from_one_distance_computation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = surface_module.surface_distances
    monkeypatch.setattr(
        surface_module, "surface_distances", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    cases = _volumes()
    m = evaluate_segmentation(
        cases, 3, ["background", "organ", "lesion"], n_resamples=0, nsd_tolerance=1.5
    )
    assert len(calls) == 3 * 2  # one per volume and scored class, not one per figure
    for (_, true, pred, _), row in zip(cases, m["per_case"], strict=True):
        nsd, hd = _monai(true, pred, 1.5)
        assert list(row["nsd"].values()) == pytest.approx(nsd, abs=1e-6)  # MONAI: float32
        missed = [np.inf if np.isnan(v) else v for v in hd]  # MONAI: NaN for a missed class
        assert list(row["hd95"].values()) == pytest.approx(missed, rel=1e-6)
    assert m["per_case"][2]["nsd"]["lesion"] == 0.0 and np.isinf(m["per_case"][2]["hd95"]["lesion"])
    lesion = [m["per_case"][i]["nsd"]["lesion"] for i in range(3)]
    organ = [m["per_case"][i]["nsd"]["organ"] for i in range(3)]
    assert m["per_class"]["lesion"]["nsd_mean"] == pytest.approx(np.mean(lesion))  # miss: 0 in
    assert m["summary"]["nsd_mean"] == pytest.approx((np.mean(lesion) + np.mean(organ)) / 2)
    assert m["summary"]["nsd_n"] == 6 and m["nsd_tolerance_mm"] == 1.5
    assert "tolerance of 1.5 mm" in m["policy"]["nsd"]


def test_no_nsd_in_voxels_and_none_unasked() -> None:
    (name, true, pred, _), *_ = _volumes()
    m = evaluate_segmentation([(name, true, pred, None)], 3, ["b", "o", "l"], n_resamples=0,
                              nsd_tolerance=1.5)  # fmt: skip
    assert "nsd" not in m["per_case"][0] and "nsd_mean" not in m["summary"]
    assert m["policy"]["nsd"].startswith("not computed: evaluate.nsd_tolerance_mm (1.5 mm)")
    plain = evaluate_segmentation(_volumes(), 3, ["b", "o", "l"], n_resamples=0)
    assert "nsd" not in plain["policy"] and "nsd_tolerance_mm" not in plain


def test_nsd_interval_and_report_name_the_tolerance(tmp_path: Path) -> None:
    m = evaluate_segmentation(
        _volumes(), 3, ["background", "organ", "lesion"], n_resamples=50, nsd_tolerance=2.0
    )
    assert m["intervals"]["nsd_mean"]["estimate"] == pytest.approx(m["summary"]["nsd_mean"])
    run = tmp_path / "runs" / "seg-20261202-1800"
    write_metrics(run, m)
    html = write_report(run, title="NSD").read_text()
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert f"Normalized surface Dice (tolerance 2 mm) {m['summary']['nsd_mean']:.3f}" in text
    assert "a class in one mask only scores 0" in text
    assert "NSD organ (at 2 mm)" in text and "NSD lesion (at 2 mm)" in text
    assert "normalized surface Dice at a tolerance of 2 mm" in text  # how it was computed
    written = json.loads((run / "metrics.json").read_text())
    assert written["nsd_tolerance_mm"] == 2.0
    printed = headline(written)  # radpipe run's line of test figures
    assert printed["nsd_mean_at_2mm"] == pytest.approx(m["summary"]["nsd_mean"])


@pytest.mark.parametrize("value", ["0", "-1", ".nan", ".inf", "true", "abc", "[2]", "'2'"])
def test_config_refuses_a_tolerance_that_is_no_distance(value: str) -> None:
    from pipeline.errors import ConfigError
    from workflows.run.config import load_config

    config = Path(__file__).parents[2] / "configs" / "mr_segment_unet.yaml"
    with pytest.raises(ConfigError, match=r"nsd_tolerance_mm: must be a distance in mm above 0"):
        load_config(config, [f"evaluate.nsd_tolerance_mm={value}"])
    with pytest.raises(ConfigError, match=r"written as a number without its unit \(2\)"):
        load_config(config, ["evaluate.nsd_tolerance_mm=2mm"])
    assert load_config(config, ["evaluate.nsd_tolerance_mm=2"]).evaluate.nsd_tolerance_mm == 2.0
    classify = config.with_name("xray_classify.yaml")
    with pytest.raises(ConfigError, match=r"nsd_tolerance_mm .*is for segmentation"):
        load_config(classify, ["evaluate.nsd_tolerance_mm=2"])


def test_a_run_scores_nsd_end_to_end(tmp_path: Path) -> None:
    """``evaluate.nsd_tolerance_mm`` through ``radpipe run`` on PNG images with a spacing:
    metrics.json and report.html carry NSD at the tolerance, in mm."""
    from tests.runner.conftest import read_rows, write_rows
    from tests.runner.test_untrained_seg_class import _config, _study
    from workflows.run.config import validate_config
    from workflows.run.runner import run_study

    listed = _study(tmp_path, outside=1)
    write_rows(listed, [r | {"spacing": "0.5x0.8"} for r in read_rows(listed)])  # mm
    raw = _config(tmp_path, listed)
    raw["evaluate"] = {"nsd_tolerance_mm": 1.5, "bootstrap": 0, "explain": 0}
    raw["report"] = {"enabled": True, "images": False}
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    m = json.loads((outcome.run_dir / "metrics.json").read_text())
    assert m["distance_unit"] == "mm" and m["nsd_tolerance_mm"] == 1.5
    assert "nsd_mean" in m["summary"] and "class1" in m["per_case"][0]["nsd"]
    html = (outcome.run_dir / "report.html").read_text()
    assert "Normalized surface Dice (tolerance 1.5 mm)" in html
