"""Which MONAI convention the empty-mask policy is, said in ``policy.empty_meaning`` and
checked against MONAI's ``compute_dice``: ``empty: one`` is ``ignore_empty=False``; ``empty:
nan`` (the default) is not ``ignore_empty=True``, which makes a false positive on an empty
truth null where radpipe scores it 0 (the policy named no MONAI setting, and readers took
the default for MONAI's)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from workflows.report.results import evaluate_segmentation


def _monai(true: np.ndarray, pred: np.ndarray, ignore_empty: bool) -> float:
    import torch
    from monai.metrics import compute_dice

    onehot = lambda m: torch.nn.functional.one_hot(torch.from_numpy(m), 2).movedim(-1, 0)[None]  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y_pred, y = onehot(pred).float(), onehot(true).float()
        out = compute_dice(y_pred, y, include_background=False, ignore_empty=ignore_empty)
    return float(out[0, 0])


def _cases() -> list[tuple[str, np.ndarray, np.ndarray, tuple[float, float]]]:
    empty, spot, square = (np.zeros((6, 6), np.int64) for _ in range(3))
    spot[1, 1] = 1
    square[2:5, 2:5] = 1
    one = (1.0, 1.0)
    return [("both empty", empty, empty, one), ("false positive", empty, spot, one),
            ("missed", square, empty, one), ("hit", square, square | spot, one)]  # fmt: skip


@pytest.mark.parametrize("empty", ["one", "nan"])
def test_the_empty_policy_against_monai(empty: str) -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0,
                              empty=empty, surface=False)  # type: ignore[arg-type]  # fmt: skip
    ours = [row["dice"]["lesion"] for row in m["per_case"]]
    monai = [_monai(t, p, ignore_empty=empty == "nan") for _, t, p, _ in _cases()]
    if empty == "one":
        assert ours == pytest.approx(monai)  # [1, 0, 0, 18/19]
        assert m["policy"]["empty_meaning"].endswith("(as MONAI's DiceMetric ignore_empty=False)")
    else:
        assert np.isnan(ours[0]) and np.isnan(monai[0])
        assert ours[1] == 0.0 and np.isnan(monai[1])  # the one place they differ
        assert ours[2:] == pytest.approx(monai[2:])
        assert "not MONAI's DiceMetric ignore_empty=True" in m["policy"]["empty_meaning"]


def test_each_class_mean_says_how_many_volumes_it_averages() -> None:
    """A class mean over the volumes that have the class (empty: nan) said with its count:
    lesion in 3 of the 4 volumes (both-empty left out), so its mean is (0 + 0 + 18/19) / 3."""
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0, surface=False)
    lesion = m["per_class"]["lesion"]
    assert lesion["dice_case_n"] == 3
    assert lesion["dice_case_mean"] == pytest.approx((0 + 0 + 18 / 19) / 3)
    one = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0,
                                surface=False, empty="one")  # fmt: skip
    assert one["per_class"]["lesion"]["dice_case_n"] == 4
