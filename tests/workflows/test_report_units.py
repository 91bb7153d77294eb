"""The report's tables name each distance's unit and NSD's tolerance: the Summary, Metrics
by class and Confidence intervals tables said a bare ``hd95_mean 1.000`` (mm or voxels of
a resized grid alike; only the cards said which)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import numpy as np

from workflows.report.results import evaluate_segmentation, write_metrics, write_report


def _text(run: Path) -> str:
    html = re.sub(r"<img[^>]*>", "", write_report(run, title="Units").read_text())
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _cases(spacing: tuple[float, ...] | None) -> list[tuple]:
    """Two volumes: a 4x4 square against the same shifted one column (x spacing 1 mm: every
    directed distance 0 or 1 mm, HD95 1.0), per volume."""
    cases = []
    for name in ("a", "b"):
        t = np.zeros((3, 12, 12), np.int64)
        t[1, 3:7, 3:7] = 1
        cases.append((name, t, np.roll(t, 1, axis=2), spacing))
    return cases


def test_distances_are_named_with_their_unit_in_every_table(tmp_path: Path) -> None:
    m = evaluate_segmentation(_cases((2.0, 0.5, 1.0)), 2, ["background", "lesion"],
                              n_resamples=20, nsd_tolerance=0.5)  # fmt: skip
    assert m["summary"]["hd95_mean"] == 1.0
    write_metrics(tmp_path / "mm", m)
    text = _text(tmp_path / "mm")
    assert "hd95_mean (mm) 1.000" in text  # Summary
    assert "Metrics by class class dice_dataset" in text
    assert "hd95_mean (mm) hd95_n" in text and "nsd_mean (tolerance 0.5 mm) nsd_n" in text
    assert "hd95_n" in text and "hd95_mean 1" not in text  # never bare
    m = evaluate_segmentation(_cases(None), 2, ["background", "lesion"], n_resamples=0)
    write_metrics(tmp_path / "voxel", m)
    assert "hd95_mean (voxels) 1.000" in _text(tmp_path / "voxel")


def test_dice_cards_say_they_average_the_classes(tmp_path: Path) -> None:
    """Two foreground classes: the pooled Dice card is the mean of the two classes' pooled Dice
    (macro), and says so; by hand: organ 4x4 found whole (1.0), lesion 2x2 against a 2x2
    shifted one column (2 of 4 overlap: 2*2 / 8 = 0.5), macro 0.75."""
    t = np.zeros((12, 12), np.int64)
    t[1:5, 1:5] = 1
    t[7:9, 7:9] = 2
    p = t.copy()
    p[7:9, 7:10] = 0
    p[7:9, 8:10] = 2
    m = evaluate_segmentation([("a", t, p, (1.0, 1.0))], 3, ["background", "organ", "lesion"],
                              n_resamples=0)  # fmt: skip
    assert m["summary"]["dice_dataset_macro"] == 0.75
    write_metrics(tmp_path / "run", m)
    text = _text(tmp_path / "run")
    assert "Dice (pooled pixels; macro over 2 classes) 0.750" in text  # a 2-D image
    assert "Dice (mean of images; macro over 2 classes) 0.750" in text  # one 2-D image
