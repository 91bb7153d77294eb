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
