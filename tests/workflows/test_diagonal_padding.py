"""``surface_failures: diagonal`` scores a failed case as the image's diagonal, the largest
distance possible in the image. With ``crop_or_pad``/``fit_depth`` the evaluated grid holds
padding too, which is no part of the image (it is scored as background in truth and
prediction): the diagonal was that of the padded grid, 67.88 mm for an 8-slice series
fitted to 16 where the image's own is 39.19 mm."""

from __future__ import annotations

import numpy as np
import pytest

from workflows.report.results import SegmentationCase, evaluate_segmentation

SPACING = (4.0, 0.5, 0.5)


def _missed(region: np.ndarray | None) -> SegmentationCase:
    true = np.zeros((16, 32, 32), np.int64)
    true[4:6, 10:14, 10:14] = 1  # inside the image; the prediction misses it
    return SegmentationCase("v", true, np.zeros_like(true), SPACING, region=region)


def test_a_failure_counts_as_the_diagonal_of_the_image_not_of_its_padding() -> None:
    region = np.zeros((16, 32, 32), bool)
    region[:8] = True  # 8 slices of image, 8 of fit_depth padding
    m = evaluate_segmentation([_missed(region)], 2, ["background", "lesion"],
                              failures="diagonal", n_resamples=0)  # fmt: skip
    # sqrt((8 * 4)^2 + (32 * 0.5)^2 + (32 * 0.5)^2) = sqrt(1536)
    assert m["summary"]["hd95_mean"] == pytest.approx(1536**0.5)
    assert m["summary"]["hd95_failed"] == 1
    unpadded = evaluate_segmentation([_missed(None)], 2, ["background", "lesion"],
                                     failures="diagonal", n_resamples=0)  # fmt: skip
    assert unpadded["summary"]["hd95_mean"] == pytest.approx(4608**0.5)  # 16 slices: 67.88


def test_stacked_slices_take_their_regions_together() -> None:
    # three 16x16 slices padded in-plane around an 8x8 image (crop_or_pad), 3 mm apart
    region = np.zeros((16, 16), bool)
    region[4:12, 4:12] = True
    cases = []
    for k in range(3):
        true = np.zeros((16, 16), np.int64)
        true[6:8, 6:8] = 1 if k == 1 else 0
        cases.append(SegmentationCase(f"s{k}", true, np.zeros_like(true), (1.0, 1.0), "p", "v",
                                      k, 3.0, region))  # fmt: skip
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], failures="diagonal",
                              n_resamples=0)  # fmt: skip
    assert m["summary"]["hd95_mean"] == pytest.approx((9.0**2 + 8**2 + 8**2) ** 0.5)
