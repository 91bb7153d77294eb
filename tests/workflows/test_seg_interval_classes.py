"""Bootstrap intervals of a segmentation's macro figures come from resamples holding every
class they average on the test cases: with the lesion in one patient of four, a third of the
resamples drew none, and their "dice_dataset_macro" was the organ's Dice alone (1.0 here),
which made the interval [0.75, 1.0] around a figure every full resample gives as 0.75
(the classification side's ``balanced_accuracy`` and ``roc_auc_macro`` were fixed alike)."""

from __future__ import annotations

import numpy as np

from workflows.report.results import SegmentationCase, evaluate_segmentation


def _cases() -> list[SegmentationCase]:
    """4 patients, one 12x12 image each: an organ (class 1) found exactly; patient p0 also has
    a 2x4 lesion (class 2) predicted one column off (figures by hand below)."""
    cases = []
    for k in range(4):
        truth = np.zeros((12, 12), np.int64)
        truth[6:10, 6:10] = 1
        pred = truth.copy()
        if k == 0:
            truth[1:3, 1:5] = 2
            pred[1:3, 2:6] = 2
        cases.append(SegmentationCase(f"c{k}", truth, pred, (1.0, 1.0), patient=f"p{k}"))
    return cases


def test_resamples_without_the_lesion_give_no_macro_figure() -> None:
    m = evaluate_segmentation(_cases(), 3, ["background", "organ", "lesion"],
                              n_resamples=200, seed=0)  # fmt: skip
    # lesion: TP 2 * 3 = 6, FP 2, FN 2: Dice 12 / 16 = 0.75; organ 1.0; macro 0.875.
    # HD95 of the lesion: every boundary pixel within 1 mm (one column off), organ 0: 0.5
    assert m["summary"]["dice_dataset_macro"] == 0.875
    assert m["summary"]["hd95_mean"] == 0.5
    # the draws of bootstrap_cis (patients p0..p3 as 0..3): those holding p0
    draws = np.random.default_rng(0).integers(0, 4, size=(200, 4))
    holding_p0 = int((draws == 0).any(axis=1).sum())
    for key, value in (("dice_dataset_macro", 0.875), ("hd95_mean", 0.5)):
        ci = m["intervals"][key]
        # every resample holding p0 gives the same figure (its counts repeated); the others
        # (organ alone: 1.0 and 0.0) are no figure of two classes
        assert ci["n_valid"] == holding_p0 < 200, key
        assert ci["low"] is None or np.isnan(ci["low"]), key  # no spread: no interval
        assert f"every resample gave {value:.4g}" in ci["note"], key
    # the case mean has no such class question: each volume's own macro
    assert m["intervals"]["dice_case_mean"]["n_valid"] == 200
