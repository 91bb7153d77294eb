"""Confusion counts and overlap averages at their edges: several counting chunks, per-case
shapes, and the averages' class handling (expected values from scikit-learn or by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import (
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
