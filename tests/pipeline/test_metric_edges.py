"""Metric figures checked against scikit-learn or by hand: a diagonal over unequal spacings, the
Jaccard index on its own paths (``jaccard_index``, the accumulator's Jaccard figures)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import jaccard_score

from pipeline.metrics import ConfusionAccumulator, jaccard_index
from pipeline.metrics.surface import image_diagonal


def test_the_image_diagonal_scales_each_axis_by_its_spacing() -> None:
    # 3 rows of 2 mm and 4 columns of 0.5 mm: a 6 mm x 2 mm image
    assert image_diagonal((3, 4), (2.0, 0.5)) == pytest.approx(math.hypot(6.0, 2.0))
    assert image_diagonal((3, 4)) == pytest.approx(5.0)


# Two cases of 3 classes; class 2 never occurs in case 1 (neither truth nor prediction).
TRUE = np.array([[0, 1, 1, 2, 2, 0], [0, 0, 1, 1, 1, 0]])
PRED = np.array([[0, 1, 0, 2, 1, 1], [0, 1, 1, 1, 0, 0]])


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
def test_jaccard_index_matches_scikit_learn(average: str | None) -> None:
    true, pred = TRUE.ravel(), PRED.ravel()
    expected = jaccard_score(true, pred, labels=[1, 2], average=average)
    found = jaccard_index(true, pred, 3, include_background=False,
                          average=average or "none")  # fmt: skip
    np.testing.assert_allclose(found, expected)
    every = jaccard_score(true, pred, labels=[0, 1, 2], average=average)
    np.testing.assert_allclose(jaccard_index(true, pred, 3, average=average or "none"), every)


def test_jaccard_index_of_an_absent_class_follows_the_empty_policy() -> None:
    true, pred = TRUE[1], PRED[1]  # class 2 absent from both
    assert np.isnan(jaccard_index(true, pred, 3, average="none")[2])
    assert jaccard_index(true, pred, 3, average="none", empty="one")[2] == 1.0
    assert jaccard_index(true, pred, 3, average="none", empty="zero")[2] == 0.0


def test_the_accumulators_jaccard_figures_are_scikit_learns() -> None:
    acc = ConfusionAccumulator(3, per_case=True, include_background=False)
    acc.update(TRUE, PRED, batched=True, ids=["a", "b"])
    out = acc.compute()
    true, pred = TRUE.ravel(), PRED.ravel()
    np.testing.assert_allclose(out["jaccard"], jaccard_score(true, pred, labels=[0, 1, 2],
                                                             average=None))  # fmt: skip
    assert out["jaccard_macro"] == pytest.approx(jaccard_score(true, pred, labels=[1, 2],
                                                               average="macro"))  # fmt: skip
    per_case = []
    for t, p in zip(TRUE, PRED):
        values = jaccard_score(t, p, labels=[0, 1, 2], average=None, zero_division=0)
        absent = [not ((t == c).any() or (p == c).any()) for c in range(3)]
        per_case.append(np.where(absent, np.nan, values))  # the "nan" empty policy
    for found, expected in zip(out["per_case"]["jaccard"], per_case):
        np.testing.assert_allclose(found, expected)
    # foreground only; case b's class 2 is absent (NaN), so its macro is class 1's alone
    macros = [float(np.mean(per_case[0][1:])), float(per_case[1][1])]
    np.testing.assert_allclose(out["per_case"]["jaccard_macro"], macros)
    assert out["jaccard_case_mean"] == pytest.approx(np.mean(macros))
    assert out["jaccard_case_mean"] != pytest.approx(out["dice_case_mean"])


@pytest.mark.parametrize("empty", ["nan", "one", "zero"])
def test_weighted_overlap_of_false_positives_on_an_empty_truth_is_zero(empty: str) -> None:
    """A lesion-free case with 3 false-positive pixels: no scored class has truth support, so
    the weighted mean had no weights and fell back to the empty policy (1.0 with "one", as if
    nothing had been predicted). scikit-learn's weighted F1/Jaccard give 0 there."""
    from sklearn.metrics import f1_score

    from pipeline.metrics import dice_score

    true, pred = np.zeros(8, dtype=np.int64), np.array([0, 1, 1, 0, 2, 0, 0, 0])
    expected = f1_score(true, pred, labels=[1, 2], average="weighted", zero_division=0)
    for metric in (dice_score, jaccard_index):
        found = metric(true, pred, 3, include_background=False, average="weighted",
                       empty=empty)  # type: ignore[call-arg]  # fmt: skip
        assert found == expected == 0.0
    # nothing predicted either: the empty policy decides, as for every other average
    fill = {"nan": math.nan, "one": 1.0, "zero": 0.0}[empty]
    found = dice_score(true, true, 3, include_background=False, average="weighted",
                       empty=empty)  # type: ignore[arg-type]  # fmt: skip
    np.testing.assert_equal(found, fill)


def test_surface_metrics_refuse_a_value_of_no_class() -> None:
    """A 0/255 truth beside a 0/1 prediction: 255 is no class of two, and was read as
    background, so the structure counted as missed (HD95 inf, a failed case) where Dice
    refuses the mask. Mapped to 0/1 it scores as drawn (by hand: the 3x4 prediction's right
    column is 1 px from the 3x3 truth, 3 of its 10 edge pixels; the truth's middle-right
    pixel is 1 px from the prediction's edge, 1 of 8: HD95 1, MSD 4 / 18)."""
    from pipeline.metrics import surface_metrics_per_class

    true = np.zeros((8, 8), np.uint8)
    true[2:5, 2:5] = 255
    pred = np.zeros((8, 8), np.uint8)
    pred[2:5, 2:6] = 1
    with pytest.raises(ValueError, match=r"'true' to hold class indices in \[0, 2\).*found 255"):
        surface_metrics_per_class(true, pred, 2)
    with pytest.raises(ValueError, match=r"'pred' to hold class indices in \[0, 2\).*found 3"):
        surface_metrics_per_class(pred, pred * 3, 2)
    found = surface_metrics_per_class(true // 255, pred, 2)
    assert found["hd95"] == [pytest.approx(1.0)]
    assert found["msd"] == [pytest.approx(4 / 18)]


def test_an_ignore_label_is_refused_saying_how_to_leave_it_out() -> None:
    """255 marks unlabelled pixels (VOC, torchmetrics' ignore_index): no class, so refused,
    and the message says how to score without them. Left out, the rest scores as by hand:
    truth [0, 1, 1], prediction [0, 1, 0]: class 1 Dice 2 / 3."""
    from pipeline.metrics import dice_score

    true, pred = np.array([0, 1, 255, 1]), np.array([0, 1, 1, 0])
    with pytest.raises(ValueError, match=r"found 255\. An ignore label .*`keep = true != 255`"):
        dice_score(true, pred, 2)
    keep = true != 255
    found = dice_score(true[keep], pred[keep], 2, include_background=False)
    assert found == pytest.approx(2 / 3)
