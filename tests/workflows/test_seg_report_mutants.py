"""Segmentation figures of ``metrics.json`` that hand-made mutants (mutation sweep eval126)
changed without a test noticing: the per-class pooled sensitivity and Jaccard, the NSD mean's
empty-mask policy and the bootstrap statistic's failure policy.

Three 2-D images of one row of 9 pixels (spacing 1 mm; in a single row every foreground pixel
is a boundary pixel), lesion = class 1, each image its own patient:
  a: truth columns 2-4, prediction columns 4-5: TP 1, FP 1, FN 2.
     pred -> true distances [0, 1], true -> pred [2, 1, 0] (mm).
     HD95 = max(P95 [0, 1] = 0.95, P95 [2, 1, 0] = 1.9) = 1.9; NSD at 1 mm: 4 of 5 = 0.8.
  b: truth columns 0-1, nothing predicted: FN 2, a failure (infinite distance, NSD 0);
     its diagonal is sqrt(1^2 + 9^2) = sqrt(82) mm.
  c: no lesion in truth or prediction: no Dice, no distance, no NSD (absent).
Pooled over the images: TP 1, FP 1, FN 4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from workflows.report.results import SegmentationCase, evaluate_segmentation


def _row(*spans: tuple[int, int]) -> np.ndarray:
    """One row of 9 pixels, lesion (1) over the column ``spans`` ``(start, stop)``."""
    row = np.zeros((1, 9), np.int64)
    for start, stop in spans:
        row[0, start:stop] = 1
    return row


def _cases() -> list[SegmentationCase]:
    spacing = (1.0, 1.0)
    return [
        SegmentationCase("a", _row((2, 5)), _row((4, 6)), spacing),
        SegmentationCase("b", _row((0, 2)), _row(), spacing),
        SegmentationCase("c", _row(), _row(), spacing),
    ]


def test_pooled_sensitivity_precision_and_jaccard_per_class() -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0,
                              surface=False)  # fmt: skip
    lesion = m["per_class"]["lesion"]
    # Mutation: the per-class sensitivity given as the precision (0.5).
    assert lesion["sensitivity"] == pytest.approx(1 / 5)  # TP / (TP + FN)
    assert lesion["precision"] == pytest.approx(1 / 2)  # TP / (TP + FP)
    assert lesion["dice_dataset"] == pytest.approx(2 / 7)  # 2 TP / (2 TP + FP + FN)
    # Mutation: the pooled Jaccard given as the pooled Dice (2/7).
    assert lesion["jaccard_dataset"] == pytest.approx(1 / 6)  # TP / (TP + FP + FN)


def test_nsd_mean_skips_a_class_absent_from_both_masks() -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0,
                              nsd_tolerance=1.0)  # fmt: skip
    lesion = m["per_class"]["lesion"]
    # a: 0.8, b: 0 (missed), c: null (absent, skipped as the policy says)
    # Mutation: the absent image counted as 0 (the mean 0.8 / 3).
    assert lesion["nsd_mean"] == pytest.approx(0.4)
    assert (lesion["nsd_n"], lesion["nsd_absent"]) == (2, 1)
    assert m["summary"]["nsd_mean"] == pytest.approx(0.4)


def test_interval_statistic_scores_failures_as_the_policy_says() -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=20,
                              failures="diagonal")  # fmt: skip
    expected = (1.9 + math.sqrt(82)) / 2  # a's HD95 and b's failure counted as its diagonal
    assert m["summary"]["hd95_mean"] == pytest.approx(expected)
    assert (m["summary"]["hd95_failed"], m["summary"]["hd95_absent"]) == (1, 1)
    # Mutation: the bootstrap statistic excluding the failure whatever the policy (1.9).
    assert m["intervals"]["hd95_mean"]["estimate"] == pytest.approx(expected)


def test_patient_failures_count_missed_structures_not_absent_ones() -> None:
    m = evaluate_segmentation(_cases(), 2, ["background", "lesion"], n_resamples=0)
    failed = {p["id"]: p["hd95_failed"] for p in m["per_patient"]}
    # Mutation: c's absent lesion (NaN distance) counted as a failure too.
    assert failed == {"a": 0, "b": 1, "c": 0}


def test_a_zero_spacing_is_unknown_so_distances_are_in_voxels() -> None:
    cases = _cases()
    cases[0].spacing = (0.0, 1.0)  # a header's 0 is no size
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    # Mutation: 0 taken as a spacing: mm, and the distance transform refused it.
    assert m["distance_unit"] == "voxel"
    assert m["per_case"][0]["hd95"]["lesion"] == pytest.approx(1.9)


def test_each_failure_scores_its_own_image_diagonal() -> None:
    # b is now 1 x 4: its missed lesion counts as sqrt(1^2 + 4^2) = sqrt(17), not a's sqrt(82)
    cases = [
        SegmentationCase("a", _row((2, 5)), _row((4, 6)), (1.0, 1.0)),
        SegmentationCase("b", _row((0, 2))[:, :4], _row()[:, :4], (1.0, 1.0)),
    ]
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0,
                              failures="diagonal")  # fmt: skip
    # Mutation: the first image's diagonal given to every failure.
    assert m["summary"]["hd95_mean"] == pytest.approx((1.9 + math.sqrt(17)) / 2)


def test_one_volume_without_spacing_puts_every_distance_in_voxels() -> None:
    cases = _cases()
    cases[0].spacing = (2.0, 2.0)
    cases[1].spacing = None
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    assert m["distance_unit"] == "voxel"
    # Mutation: a's own spacing kept while the unit says voxels (3.8 "voxels").
    assert m["per_case"][0]["hd95"]["lesion"] == pytest.approx(1.9)


def test_slice_table_mean_is_over_every_slice() -> None:
    # one series of 2 slices: slice 0 found exactly (Dice 1), slice 1 missed (Dice 0)
    hit = np.zeros((4, 4), np.int64)
    hit[1, 1:3] = 1
    cases = [
        SegmentationCase("s0", hit, hit.copy(), (1.0, 1.0), "p", "v", 0, 1.0),
        SegmentationCase("s1", hit.copy(), np.zeros_like(hit), (1.0, 1.0), "p", "v", 1, 1.0),
    ]
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    assert [r["dice_macro"] for r in m["per_slice"]] == [1.0, 0.0]
    # Mutation: the first slice left out of the mean (0).
    assert m["slices"]["dice_slice_mean"] == pytest.approx(0.5)


def test_slices_of_uneven_steps_keep_distances_in_voxels() -> None:
    # one series, two slices, each claiming its own slice step: no one z spacing
    hit = np.zeros((4, 4), np.int64)
    hit[1, 1:3] = 1
    cases = [
        SegmentationCase("s0", hit, hit.copy(), (1.0, 1.0), "p", "v", 0, 1.0),
        SegmentationCase("s1", hit.copy(), hit.copy(), (1.0, 1.0), "p", "v", 1, 2.5),
    ]
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0)
    # Mutation: one of the two steps taken as the volume's spacing (mm).
    assert m["distance_unit"] == "voxel"


def test_a_mix_of_images_and_volumes_pools_voxels() -> None:
    volume = np.stack([_row((2, 5)), _row((2, 5))])  # (2, 1, 9)
    cases = [
        SegmentationCase("a", _row((2, 5)), _row((4, 6)), (1.0, 1.0)),
        SegmentationCase("v", volume, volume.copy(), (1.0, 1.0, 1.0)),
    ]
    m = evaluate_segmentation(cases, 2, ["background", "lesion"], n_resamples=0,
                              surface=False)  # fmt: skip
    # Mutation: "pixels" as soon as one case is a 2-D image.
    assert m["dataset"]["confusion_matrix_unit"] == "voxels"
