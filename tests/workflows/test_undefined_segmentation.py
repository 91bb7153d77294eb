"""A segmentation's null headline figures say why: Dice of 0/0 in every case (no scored class
in any mask, ``empty: nan``), HD95/MSD with every distance failed or absent. They were null
with counts beside them, a bare dash in the report's Summary table and no line under the
printed headline. Expected by hand: an empty 8x8 truth and prediction has no lesion (Dice
0/0); a 2x2 lesion predicted as nothing is a miss (Dice 0, HD95 infinite: failed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workflows.report.results import evaluate_segmentation, write_metrics, write_report
from workflows.report.sections import cards, esc
from workflows.run.summary import printed_notes

NAMES = ["background", "lesion"]


def test_no_lesion_anywhere_says_why_dice_is_null(tmp_path: Path) -> None:
    empty = np.zeros((8, 8), np.uint8)
    cases = [("a", empty, empty, (1.0, 1.0)), ("b", empty, empty, (1.0, 1.0))]
    metrics = evaluate_segmentation(cases, 2, NAMES, n_resamples=0)
    dice = (
        "Dice and Jaccard are undefined: no scored class (lesion) is in the truth or the "
        "prediction of any of the images, 0/0 in each (empty: nan; empty: one scores such a "
        "case 1)"
    )
    hd95 = (
        "hd95_mean is undefined: no (image, class) pair has a finite distance: 2 absent (the "
        "class in neither mask)"
    )
    assert metrics["undefined_metrics"]["dice"] == dice
    assert metrics["undefined_metrics"]["hd95"] == hd95
    assert dice in printed_notes(metrics)
    write_metrics(tmp_path, metrics)
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert f"<td>n/a ({esc(dice)})</td>" in html  # dice_case_mean, jaccard_*, ...: was a dash
    assert html.count(f"<td>n/a ({esc(dice)})</td>") == 5


def test_a_missed_lesion_says_why_hd95_is_null() -> None:
    truth = np.zeros((8, 8), np.uint8)
    truth[2:4, 2:4] = 1
    metrics = evaluate_segmentation(
        [("a", truth, np.zeros_like(truth), (1.0, 1.0))], 2, NAMES, n_resamples=0
    )
    assert metrics["summary"]["dice_case_mean"] == 0.0  # defined: a miss, no reason
    why = (
        "hd95_mean is undefined: no (image, class) pair has a finite distance: 1 failed (a "
        "class in one mask only: an infinite distance, left out by "
        "evaluate.surface_failures: exclude)"
    )
    assert metrics["undefined_metrics"] == {"hd95": why, "msd": why.replace("hd95", "msd")}
    written = json.loads(json.dumps(metrics).replace("NaN", "null"))  # as metrics.json
    card = cards("segmentation", written)
    assert "<div class='v'>n/a</div>" in card and esc(why) in card
