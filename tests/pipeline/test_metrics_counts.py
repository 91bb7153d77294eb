"""Confusion counts and overlap averages at their edges: several counting chunks, per-case
shapes, and the averages' class handling (expected values from scikit-learn or by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import (
    ConfusionAccumulator,
    confusion_matrices,
    confusion_matrix,
    dice_from_confusion,
    jaccard_from_confusion,
    rates_from_confusion,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def test_counts_over_several_chunks_agree_with_sklearn() -> None:
    """Mutations in the chunk loop (a chunk counted twice or left out, a wrong offset): the
    volume is 3 chunks of 65536 elements and a partial one."""
    rng = np.random.default_rng(0)
    n = 3 * 65536 + 1234
    true = rng.integers(0, 3, n, dtype=np.uint8)
    pred = np.where(rng.random(n) < 0.7, true, rng.integers(0, 3, n)).astype(np.uint8)
    pred[-1], true[-1] = 2, 0  # the last element, in the partial chunk
    expected = sklearn_metrics.confusion_matrix(true, pred, labels=[0, 1, 2])
    np.testing.assert_array_equal(confusion_matrix(true, pred, 3), expected)
    assert confusion_matrix(true, pred, 3).sum() == n
    with pytest.raises(ValueError, match="found 3"):  # a bad value in the last chunk only
        confusion_matrix(true, np.where(np.arange(n) == n - 1, 3, pred), 3)


def test_per_case_confusion_refuses_shapes_that_differ() -> None:
    """Mutation: the shape check of ``confusion_matrices`` weakened (``and`` for ``or``)."""
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrices(np.zeros((2, 3), np.uint8), np.zeros((2, 4), np.uint8), 2)
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrices(np.uint8(0), np.uint8(0), 2)  # 0-d: no case axis


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (4,), (2, 2, 2)])
def test_scores_from_a_confusion_matrix_refuse_one_that_is_not_square(
    shape: tuple[int, ...],
) -> None:
    """Mutation: the square check of the (K, K) matrix weakened (a (2, 3) one scored)."""
    cm = np.ones(shape, dtype=np.int64)
    for score in (dice_from_confusion, jaccard_from_confusion, rates_from_confusion):
        with pytest.raises(ValueError, match=r"square \(K, K\) confusion matrix"):
            score(cm)


@pytest.mark.parametrize(("empty", "absent"), [("one", 1.0), ("zero", 0.0)])
def test_accumulator_per_class_figures_follow_its_empty_policy(empty: str, absent: float) -> None:
    """Mutation: the accumulator's per-class Dice/Jaccard computed with the default policy
    (NaN) instead of its own. Truth 0 1 1, prediction 0 1 0, class 2 in neither: class 0 TP 1
    FP 1, class 1 TP 1 FN 1: Dice 2/3 each, Jaccard 1/2 each; class 2 is ``absent``."""
    acc = ConfusionAccumulator(3, per_case=True, empty=empty)  # type: ignore[arg-type]
    acc.update([0, 1, 1], [0, 1, 0])
    result = acc.compute()
    np.testing.assert_allclose(result["dice"], [2 / 3, 2 / 3, absent])
    np.testing.assert_allclose(result["jaccard"], [1 / 2, 1 / 2, absent])
    np.testing.assert_allclose(result["per_case"]["dice"], [[2 / 3, 2 / 3, absent]])
    assert result["dice_macro"] == pytest.approx((4 / 3 + absent) / 3)


def test_one_hot_masks_are_refused_naming_the_axis() -> None:
    """MONAI's DiceMetric takes one-hot (B, C, H, W) masks; given here, their 0/1 values were
    valid indices of 3 classes: every channel's ones (background's too) were class 1 and
    class 2 absent (Dice [0.653, nan] where the masks' classes score [0.596, 0.714])."""
    import torch
    from monai.metrics import DiceMetric

    from pipeline.metrics import ConfusionAccumulator, dice_score

    rng = np.random.default_rng(0)
    true = rng.integers(0, 3, (2, 6, 6))
    pred = true.copy()
    pred[:, :3] = rng.integers(0, 3, (2, 3, 6))
    one_hot_true = np.eye(3, dtype=np.uint8)[true].transpose(0, 3, 1, 2)  # (B, C, H, W)
    one_hot_pred = np.eye(3, dtype=np.uint8)[pred].transpose(0, 3, 1, 2)
    said = r"look one-hot along axis 1 \(size 3.*Pass `argmax\(axis=1\)`"
    with pytest.raises(ValueError, match=said):
        dice_score(one_hot_true, one_hot_pred, 3, include_background=False, average="none")
    with pytest.raises(ValueError, match=said):
        ConfusionAccumulator(3, per_case=True).update(one_hot_true, one_hot_pred, batched=True)
    # their argmax is what MONAI scores the one-hot masks as (pooled over the batch)
    monai = DiceMetric(include_background=False, reduction="mean_channel")
    monai(torch.from_numpy(one_hot_pred.swapaxes(0, 1)[None].reshape(1, 3, 12, 6)),
          torch.from_numpy(one_hot_true.swapaxes(0, 1)[None].reshape(1, 3, 12, 6)))  # fmt: skip
    expected = monai.aggregate(reduction="none").numpy().ravel()
    found = dice_score(one_hot_true.argmax(1), one_hot_pred.argmax(1), 3,
                       include_background=False, average="none")  # fmt: skip
    np.testing.assert_allclose(found, expected, rtol=1e-6)
    # 0/1 label maps of 3 classes with an axis of 3 that is not one-hot are taken
    zeros_ones = np.array([[0, 1, 1], [0, 0, 1], [1, 0, 0]])
    assert dice_score(zeros_ones, zeros_ones, 3, average="none")[1] == 1.0


def test_merging_counts_without_cases_into_a_per_case_accumulator_is_refused() -> None:
    """The other process's 2 cases entered the pooled counts but not the case table: the case
    mean said 1 case (0.733) beside pooled figures of 3 (dice_macro 0.829), without a word."""
    from pipeline.metrics import ConfusionAccumulator

    true, pred = np.array([[0, 1, 1, 0]]), np.array([[0, 1, 0, 0]])
    mine = ConfusionAccumulator(2, per_case=True)
    mine.update(true, pred, batched=True, ids=["a"])
    other = ConfusionAccumulator(2)
    other.update(true, true, batched=True)
    other.update(true, pred, batched=True)
    with pytest.raises(ValueError, match="holds 8 elements in no case"):
        mine.merge(other)
    # with its cases kept, the merge is whole: case a (Dice 1, 2/3 by class) and b (1, 1)
    other = ConfusionAccumulator(2, per_case=True)
    other.update(true, true, batched=True, ids=["b"])
    out = mine.merge(other).compute()
    assert out["per_case"]["ids"] == ["a", "b"]
    assert out["confusion_matrix"] == [[4, 0], [1, 3]]
    assert out["dice_case_mean"] == pytest.approx(((0.8 + 2 / 3) / 2 + 1) / 2)


def test_a_few_label_values_that_could_be_one_hot_are_taken_as_labels() -> None:
    """Four one-pixel cases labelled 1, 0, 0, 0 of 4 classes (hypothesis found it) were
    refused as a one-hot pixel; too few positions to tell, they are label maps: the counts
    by hand, and the one-hot (B, C, H, W) masks of the test above are still refused."""
    from pipeline.metrics import confusion_matrix

    labels = np.array([1, 0, 0, 0], dtype=np.uint8)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 0], expected[1, 1] = 3, 1
    np.testing.assert_array_equal(confusion_matrix(labels, labels, 4), expected)
    two_by_two = np.eye(4, dtype=np.uint8)[:, :2]  # (4, 2): one 1 in each column
    assert confusion_matrix(two_by_two, two_by_two, 4).trace() == 8


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16], ids=["uint8", "int8", "uint16"])
def test_narrow_label_dtypes_with_many_classes(dtype: type) -> None:
    """uint8 label maps of 17+ classes (a PNG mask, TotalSegmentator's labels): ``true * K``
    was computed in uint8, so class 16 of 17 (272) wrapped to 16 and was counted as class 0
    predicted 16; Dice of class 16 was 0 for 2 / 3 (by hand: TP 1, FN 1, FP 0)."""
    true = np.array([16, 16, 0, 1, 5], dtype=dtype)
    pred = np.array([16, 0, 0, 1, 16], dtype=dtype)
    cm = confusion_matrix(true, pred, 17)
    assert cm[16, 16] == 1 and cm[16, 0] == 1 and cm[5, 16] == 1 and cm[0, 16] == 0
    assert cm.sum() == 5
    np.testing.assert_array_equal(confusion_matrices(true[None], pred[None], 17)[0], cm)
    assert dice_from_confusion(cm, average="none")[16] == pytest.approx(2 * 1 / (2 + 1 + 1))
    rng = np.random.default_rng(1)
    t, p = rng.integers(0, 100, 5000).astype(np.uint8), rng.integers(0, 100, 5000).astype(np.uint8)
    expected = sklearn_metrics.confusion_matrix(t, p, labels=list(range(100)))
    np.testing.assert_array_equal(confusion_matrix(t, p, 100), expected)
