"""A failed surface distance (a structure in one mask only) is told apart from an undefined
one (in neither) wherever a case is shown: both are ``null`` in ``metrics.json``, so each
volume names its failed and absent classes, the report's per-volume table says "failed",
and the printed headline gives the failure count even when every case failed (it printed
no HD95 at all, as if distances were not computed: MONAI #9095, reproduction 10)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workflows.report.html import _per_case_section
from workflows.report.results import evaluate_segmentation, write_metrics
from workflows.run.runner import headline


def _case(name: str, truth: bool, pred: bool) -> tuple[str, np.ndarray, np.ndarray, tuple]:
    t = np.zeros((3, 16, 16), np.int64)
    p = np.zeros((3, 16, 16), np.int64)
    t[1, 4:8, 4:8] = 1 if truth else 0
    p[1, 4:8, 5:9] = 1 if pred else 0  # one column off: HD95 1 mm when both are there
    return (name, t, p, (2.0, 1.0, 1.0))


def test_each_volume_names_its_failed_and_absent_classes(tmp_path: Path) -> None:
    cases = [_case("hit", True, True), _case("missed", True, False),
             _case("false-positive", False, True), _case("nothing", False, False)]  # fmt: skip
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    written = json.loads(write_metrics(tmp_path / "metrics.json", m).read_text())
    rows = {r["id"]: r for r in written["per_case"]}
    assert [rows[k]["hd95"]["lesion"] for k in rows] == [1.0, None, None, None]
    assert {k: rows[k]["surface_failed"] for k in rows} == {
        "hit": [],
        "missed": ["lesion"],
        "false-positive": ["lesion"],
        "nothing": [],
    }
    assert {k: rows[k]["surface_absent"] for k in rows} == {
        "hit": [],
        "missed": [],
        "false-positive": [],
        "nothing": ["lesion"],
    }
    table = _per_case_section("segmentation", written)
    # "nothing": its Dice (macro and lesion) and its HD95 are undefined
    assert table.count("<td>failed</td>") == 2 and table.count("<td>–</td>") == 3


def test_headline_prints_the_failures_when_every_case_failed() -> None:
    cases = [_case("missed", True, False), _case("false-positive", False, True)]
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    assert np.isnan(m["summary"]["hd95_mean"]) and m["summary"]["hd95_failed"] == 2
    printed = headline(m)
    assert printed["hd95_failed"] == 2 and printed["hd95_mean_mm"] is None  # "undefined"
