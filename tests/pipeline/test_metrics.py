"""Metrics against hand-computed cases, scikit-learn, MONAI and torchmetrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pipeline.metrics import (
    ConfusionAccumulator,
    confusion_matrices,
    confusion_matrix,
    dice_from_confusion,
    dice_score,
    jaccard_from_confusion,
    jaccard_index,
    normalize_confusion,
    rates_from_confusion,
    roc_auc_score,
    roc_curve,
    torch_all_reduce,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")

# --- hand-computed cases ---------------------------------------------------------------------

#   true        pred
#   0 0 1 1     0 1 1 1
#   0 2 2 1     0 2 0 1
TRUE_2D = np.array([[0, 0, 1, 1], [0, 2, 2, 1]], dtype=np.uint8)
PRED_2D = np.array([[0, 1, 1, 1], [0, 2, 0, 1]], dtype=np.uint8)


def test_confusion_hand_computed() -> None:
    cm = confusion_matrix(TRUE_2D, PRED_2D, 3)
    # class 0: 3 true, 2 kept, 1 -> class 1; class 1: 3 true, all kept; class 2: 1 kept, 1 -> 0
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 3, 0], [1, 0, 1]])
    assert cm.dtype == np.int64


def test_dice_jaccard_hand_computed() -> None:
    # class 0: TP 2 FP 1 FN 1 -> D 4/6, J 2/4; class 1: TP 3 FP 1 FN 0 -> D 6/7, J 3/4;
    # class 2: TP 1 FP 0 FN 1 -> D 2/3, J 1/2
    d = dice_score(TRUE_2D, PRED_2D, 3, average="none")
    j = jaccard_index(TRUE_2D, PRED_2D, 3, average="none")
    np.testing.assert_allclose(d, [4 / 6, 6 / 7, 2 / 3])
    np.testing.assert_allclose(j, [1 / 2, 3 / 4, 1 / 2])
    assert dice_score(TRUE_2D, PRED_2D, 3) == pytest.approx((4 / 6 + 6 / 7 + 2 / 3) / 3)
    fg = dice_score(TRUE_2D, PRED_2D, 3, include_background=False)
    assert fg == pytest.approx((6 / 7 + 2 / 3) / 2)
    # micro over foreground: TP 4, FP 1, FN 1 -> 8/10; weighted by support 3, 2
    micro = dice_score(TRUE_2D, PRED_2D, 3, include_background=False, average="micro")
    assert micro == pytest.approx(0.8)
    weighted = dice_score(TRUE_2D, PRED_2D, 3, include_background=False, average="weighted")
    assert weighted == pytest.approx((3 * 6 / 7 + 2 * 2 / 3) / 5)
    # micro with background equals accuracy (6 of 8)
    assert dice_score(TRUE_2D, PRED_2D, 3, average="micro") == pytest.approx(6 / 8)


@pytest.mark.parametrize(
    "true, pred, empty, expected",
    [
        ([0, 0, 0, 0], [0, 0, 0, 0], "nan", math.nan),
        ([0, 0, 0, 0], [0, 0, 0, 0], "one", 1.0),
        ([0, 0, 0, 0], [0, 0, 0, 0], "zero", 0.0),
        ([0, 0, 0, 0], [0, 1, 0, 0], "nan", 0.0),
        ([0, 0, 0, 0], [0, 1, 0, 0], "one", 0.0),
        ([0, 1, 0, 0], [0, 0, 0, 0], "one", 0.0),
        ([0, 1, 1, 0], [0, 1, 1, 0], "nan", 1.0),
    ],
    ids=[
        "both-empty-nan",
        "both-empty-one",
        "both-empty-zero",
        "false-positive-nan",
        "false-positive-one",
        "false-negative-one",
        "perfect",
    ],
)
def test_empty_mask_policy(true: list[int], pred: list[int], empty: str, expected: float) -> None:
    for fn in (dice_score, jaccard_index):
        value = fn(np.array(true), np.array(pred), 2, include_background=False, empty=empty)  # type: ignore[arg-type]
        assert (math.isnan(value) and math.isnan(expected)) or value == expected


def test_empty_class_skipped_in_macro_and_weighted() -> None:
    # class 2 absent from both: NaN, skipped; with "one" it counts as 1.0 in the macro mean
    cm = np.array([[4, 1, 0], [1, 2, 0], [0, 0, 0]])
    assert dice_from_confusion(cm) == pytest.approx((0.8 + 4 / 6) / 2)
    assert dice_from_confusion(cm, empty="one") == pytest.approx((0.8 + 4 / 6 + 1) / 3)
    # weighted: class 2 has no support, so it weighs 0 whatever the policy
    for empty in ("nan", "one"):
        w = dice_from_confusion(cm, average="weighted", empty=empty)  # type: ignore[arg-type]
        assert w == pytest.approx((5 * 0.8 + 3 * 4 / 6) / 8)
    nothing = np.zeros((3, 3), dtype=np.int64)
    assert math.isnan(dice_from_confusion(nothing, average="micro"))
    assert dice_from_confusion(nothing, average="weighted", empty="one") == 1.0


def test_per_case_confusion_in_one_call() -> None:
    true = np.stack([TRUE_2D, np.zeros_like(TRUE_2D)])
    pred = np.stack([PRED_2D, PRED_2D])
    cms = confusion_matrices(true, pred, 3)
    np.testing.assert_array_equal(cms[0], confusion_matrix(TRUE_2D, PRED_2D, 3))
    np.testing.assert_array_equal(cms[1], [[3, 4, 1], [0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"true": [0, 3], "pred": [0, 1]}, "'true' to hold class indices in [0, 3)"),
        ({"true": [0, 1], "pred": [-1, 1]}, "'pred' to hold class indices in [0, 3)"),
        ({"true": [0.0, 1.0], "pred": [0, 1]}, "integer class indices"),
        ({"true": [0, 1, 1], "pred": [0, 1]}, "same shape"),
    ],
    ids=["too-large", "negative", "float", "shape"],
)
def test_bad_labels_raise_clear_errors(kwargs: dict[str, list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        confusion_matrix(np.array(kwargs["true"]), np.array(kwargs["pred"]), 3)
    assert message in str(info.value)


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="'average' parameter"):
        dice_score([0], [0], 2, average="mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'empty' parameter"):
        jaccard_index([0], [0], 2, empty="skip")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'num_classes' parameter"):
        confusion_matrix([0], [0], 0)


def test_many_classes_and_torch_input() -> None:
    rng = np.random.default_rng(1)
    true = rng.integers(0, 40, 5000)
    pred = rng.integers(0, 40, 5000)
    expected = sklearn_metrics.confusion_matrix(true, pred, labels=range(40))
    np.testing.assert_array_equal(confusion_matrix(true, pred, 40), expected)
    got = confusion_matrix(torch.from_numpy(true), torch.from_numpy(pred), 40)
    np.testing.assert_array_equal(got, expected)
    big_true = rng.integers(0, 3, 200_000).astype(np.int32)  # several chunks
    big_pred = rng.integers(0, 3, 200_000).astype(np.int16)
    expected = sklearn_metrics.confusion_matrix(big_true, big_pred, labels=range(3))
    np.testing.assert_array_equal(confusion_matrix(big_true, big_pred, 3), expected)


# --- agreement with scikit-learn ---------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rates_agree_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 4, 300, dtype=np.uint8)
    pred = np.where(rng.random(300) < 0.6, true, rng.integers(0, 4, 300)).astype(np.uint8)
    cm = confusion_matrix(true, pred, 4)
    np.testing.assert_array_equal(cm, sklearn_metrics.confusion_matrix(true, pred))
    r = rates_from_confusion(cm)
    prec, rec, f1, support = sklearn_metrics.precision_recall_fscore_support(true, pred)
    np.testing.assert_allclose(r["precision"], prec)
    np.testing.assert_allclose(r["sensitivity"], rec)
    np.testing.assert_allclose(r["f1"], f1)
    np.testing.assert_array_equal(r["support"], support)
    assert r["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(true, pred))
    expected_bacc = sklearn_metrics.balanced_accuracy_score(true, pred)
    assert r["balanced_accuracy"] == pytest.approx(expected_bacc)
    assert r["f1_macro"] == pytest.approx(sklearn_metrics.f1_score(true, pred, average="macro"))
    # specificity of class c = recall of "not c"; NPV = precision of "not c"
    for c in range(4):
        spec = sklearn_metrics.recall_score(true != c, pred != c)
        npv = sklearn_metrics.precision_score(true != c, pred != c)
        assert r["specificity"][c] == pytest.approx(spec)  # type: ignore[index]
        assert r["npv"][c] == pytest.approx(npv)  # type: ignore[index]
    for by in ("true", "pred", "all"):
        expected = sklearn_metrics.confusion_matrix(true, pred, normalize=by)
        np.testing.assert_allclose(normalize_confusion(cm, by=by), expected)  # type: ignore[arg-type]


def test_rates_with_missing_class_are_nan() -> None:
    r = rates_from_confusion(np.array([[3, 1, 0], [1, 2, 0], [0, 0, 0]]))
    assert math.isnan(r["sensitivity"][2]) and math.isnan(r["precision"][2])  # type: ignore[index]
    assert r["sensitivity_macro"] == pytest.approx((3 / 4 + 2 / 3) / 2)
    assert r["specificity"][2] == 1.0  # type: ignore[index]
    rows = normalize_confusion(np.array([[3, 1], [0, 0]]))
    assert np.isnan(rows[1]).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_roc_auc_agrees_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 2, 200)
    scores = np.round(true * 0.3 + rng.random(200), 1)  # rounding makes ties
    assert roc_auc_score(true, scores) == pytest.approx(sklearn_metrics.roc_auc_score(true, scores))
    fpr, tpr, thr = roc_curve(true, scores)
    efpr, etpr, ethr = sklearn_metrics.roc_curve(true, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, efpr)
    np.testing.assert_allclose(tpr, etpr)
    np.testing.assert_allclose(thr[1:], ethr[1:])
    true3 = rng.integers(0, 3, 200)
    logits = rng.normal(size=(200, 3)) + np.eye(3)[true3]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = sklearn_metrics.roc_auc_score(true3, probs, multi_class="ovr", average="macro")
    assert roc_auc_score(true3, probs) == pytest.approx(expected)
    assert roc_auc_score(true, np.stack([1 - scores, scores], 1)) == pytest.approx(
        sklearn_metrics.roc_auc_score(true, scores)
    )


def test_roc_auc_undefined_class_is_nan() -> None:
    assert math.isnan(roc_auc_score([1, 1, 1], [0.2, 0.5, 0.9]))  # type: ignore[arg-type]
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    per_class = roc_auc_score([0, 1, 0], probs, average="none")
    assert per_class[0] == 1.0 and per_class[1] == 1.0 and math.isnan(per_class[2])  # type: ignore[index]
    # The macro mean over 3 classes is undefined: not the mean of the 2 defined ones (1.0),
    # as metrics.json's roc_auc_macro is null then (scikit-learn refuses the input).
    with pytest.warns(RuntimeWarning, match=r"class \[2\]"):
        assert math.isnan(roc_auc_score([0, 1, 0], probs))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sklearn_metrics.roc_auc_score([0, 1, 0], probs, multi_class="ovr")


# --- agreement with MONAI and torchmetrics -----------------------------------------------------


def _one_hot(labels: np.ndarray, k: int) -> torch.Tensor:
    # (B, *S) -> (B, K, *S)
    return torch.nn.functional.one_hot(torch.from_numpy(labels).long(), k).movedim(-1, 1).float()


def _random_labels(seed: int, shape: tuple[int, ...], k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, shape, dtype=np.uint8)
    noise = rng.integers(0, k, shape, dtype=np.uint8)
    pred = np.where(rng.random(shape) < 0.7, true, noise).astype(np.uint8)
    return true, pred


@pytest.mark.parametrize("include_background", [True, False])
def test_per_case_dice_iou_agree_with_monai(include_background: bool) -> None:
    from monai.metrics import DiceMetric, MeanIoU

    true, pred = _random_labels(3, (4, 16, 16), 4)
    dice = DiceMetric(include_background=include_background, reduction="none")
    iou = MeanIoU(include_background=include_background, reduction="none")
    expected_d = dice(_one_hot(pred, 4), _one_hot(true, 4)).numpy()
    expected_j = iou(_one_hot(pred, 4), _one_hot(true, 4)).numpy()
    acc = ConfusionAccumulator(4, per_case=True, include_background=include_background)
    acc.update(true[:2], pred[:2], batched=True)
    acc.update(true[2:], pred[2:], batched=True)
    result = acc.compute()
    first = 0 if include_background else 1
    got_d = np.array(result["per_case"]["dice"])[:, first:]
    got_j = np.array(result["per_case"]["jaccard"])[:, first:]
    np.testing.assert_allclose(got_d, expected_d, rtol=1e-6)
    np.testing.assert_allclose(got_j, expected_j, rtol=1e-6)
    assert result["dice_case_mean"] == pytest.approx(expected_d.mean(), rel=1e-6)


def test_dataset_dice_iou_agree_with_torchmetrics() -> None:
    from torchmetrics.classification import MulticlassF1Score, MulticlassJaccardIndex

    true, pred = _random_labels(4, (3, 12, 12, 12), 4)
    t, p = torch.from_numpy(true).long(), torch.from_numpy(pred).long()
    for average in ("none", "macro", "micro", "weighted"):
        f1 = MulticlassF1Score(4, average=average, multidim_average="global")(p, t).numpy()
        iou = MulticlassJaccardIndex(4, average=average)(p, t).numpy()
        got_d = dice_score(true, pred, 4, average=average)  # type: ignore[arg-type]
        got_j = jaccard_index(true, pred, 4, average=average)  # type: ignore[arg-type]
        np.testing.assert_allclose(got_d, f1, rtol=1e-5, err_msg=average)
        np.testing.assert_allclose(got_j, iou, rtol=1e-5, err_msg=average)


# --- accumulator ----------------------------------------------------------------------------


def test_accumulator_batches_merge_and_reduce() -> None:
    true, pred = _random_labels(5, (6, 10, 10), 3)
    whole = ConfusionAccumulator(3)
    whole.update(true, pred)
    first, second = ConfusionAccumulator(3, per_case=True), ConfusionAccumulator(3, per_case=True)
    first.update(true[:4], pred[:4], batched=True, ids=["a", "b", "c", "d"])
    for i in (4, 5):
        second.update(true[i], pred[i])
    merged = ConfusionAccumulator(3, per_case=True).merge(first).merge(second.state())
    np.testing.assert_array_equal(merged.counts, whole.counts)
    assert merged.compute()["per_case"]["ids"] == ["a", "b", "c", "d", "case0", "case1"]
    # reduce: the all-reduce sums counts over "processes" (here two accumulators)
    first.reduce(lambda counts: counts + second.counts, lambda cases: [cases, []])
    np.testing.assert_array_equal(first.counts, whole.counts)
    result, expected = first.compute(), whole.compute()
    for key in ("dice", "jaccard", "dice_macro", "accuracy", "sensitivity", "confusion_matrix"):
        np.testing.assert_allclose(result[key], expected[key])
    whole.reset()
    assert whole.counts.sum() == 0
    with pytest.raises(ValueError, match="needs a gather_fn"):
        merged.reduce(lambda counts: counts)


def test_torch_all_reduce_single_process(tmp_path: object) -> None:
    import torch.distributed as dist

    store = dist.FileStore(str(tmp_path) + "/store", 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        acc = ConfusionAccumulator(2)
        acc.update([0, 1, 1], [0, 1, 0])
        acc.reduce(torch_all_reduce)
        np.testing.assert_array_equal(acc.counts, [[1, 0], [1, 1]])
    finally:
        dist.destroy_process_group()


# --- properties (hypothesis) --------------------------------------------------------------------

labels = arrays(np.uint8, st.integers(1, 40), elements=st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(labels)
def test_dice_of_self_is_one_for_present_classes(x: np.ndarray) -> None:
    d = dice_score(x, x, 4, average="none")
    present = np.bincount(x, minlength=4) > 0
    np.testing.assert_array_equal(d[present], 1.0)  # type: ignore[index]
    assert np.isnan(d[~present]).all()  # type: ignore[index]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_dice_jaccard_symmetric_bounded_and_related(data: st.DataObject) -> None:
    a = data.draw(labels)
    b = data.draw(arrays(np.uint8, a.shape, elements=st.integers(0, 3)))
    cm_ab, cm_ba = confusion_matrix(a, b, 4), confusion_matrix(b, a, 4)
    np.testing.assert_array_equal(cm_ab, cm_ba.T)
    d = np.asarray(dice_from_confusion(cm_ab, average="none"))
    j = np.asarray(jaccard_from_confusion(cm_ab, average="none"))
    np.testing.assert_allclose(d, dice_from_confusion(cm_ba, average="none"))
    defined = ~np.isnan(d)
    assert ((d[defined] >= 0) & (d[defined] <= 1)).all()
    assert ((j[defined] >= 0) & (j[defined] <= 1)).all()
    np.testing.assert_allclose(j[defined], d[defined] / (2 - d[defined]), rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(j), ~defined)
