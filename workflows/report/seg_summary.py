"""Summaries of per-volume segmentation rows: per class and overall (with failure counts),
per patient, bootstrap intervals over patients, and the policy text of ``metrics.json``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from pipeline.metrics import (
    BOOTSTRAP_METHOD,
    ConfusionAccumulator,
    EmptyPolicy,
    FailurePolicy,
    bootstrap_cis,
    dice_from_confusion,
    summarize_distances,
)


def summaries(
    rows: list[dict[str, Any]],
    counts: list[np.ndarray],
    scored: list[str],
    first: int,
    num_classes: int,
    include_background: bool,
    empty: EmptyPolicy,
    surface: bool,
    failures: FailurePolicy,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, Any]]:
    pooled = ConfusionAccumulator(num_classes, include_background=include_background, empty=empty)
    pooled.counts = np.sum(counts, axis=0)
    result = pooled.compute()
    per_class: dict[str, dict[str, Any]] = {}
    for offset, name in enumerate(scored):
        c = first + offset
        entry: dict[str, Any] = {
            "dice_dataset": result["dice"][c],
            "jaccard_dataset": result["jaccard"][c],
            "dice_case_mean": nanmean([r["dice"][name] for r in rows]),
            # volumes whose Dice of this class is defined (empty="nan": not in neither mask)
            "dice_case_n": int(np.isfinite([float(r["dice"][name]) for r in rows]).sum()),
            "jaccard_case_mean": nanmean([r["jaccard"][name] for r in rows]),
            "sensitivity": result["sensitivity"][c],
            "precision": result["precision"][c],
        }
        if surface:
            for key in ("hd95", "msd"):
                s = _distance_summary(rows, key, name, failures)
                entry |= {
                    f"{key}_mean": s["mean"],
                    f"{key}_n": s["n"],
                    f"{key}_failed": s["failed"],
                    f"{key}_absent": s["absent"],
                }
        if rows and "nsd" in rows[0]:  # bounded: a miss scores 0 and is averaged, as MONAI
            values = np.array([r["nsd"][name] for r in rows], dtype=np.float64)
            entry |= {"nsd_mean": nanmean(values), "nsd_n": int(np.isfinite(values).sum()),
                      "nsd_absent": int(np.isnan(values).sum())}  # fmt: skip
        per_class[name] = entry
    defined = int(np.isfinite([float(r["dice_macro"]) for r in rows]).sum())
    summary: dict[str, Any] = {
        "dice_case_mean": nanmean([r["dice_macro"] for r in rows]),
        # cases with every scored class absent from truth and prediction (empty="nan") have
        # no Dice and are left out of the case mean: say how many were averaged
        "dice_case_n": defined,
        "dice_case_absent": len(rows) - defined,
        "jaccard_case_mean": nanmean([_macro(r["jaccard"]) for r in rows]),
        "dice_dataset_macro": result["dice_macro"],
        "jaccard_dataset_macro": result["jaccard_macro"],
    }
    if surface:
        for key in ("hd95", "msd"):
            summary[f"{key}_mean"] = nanmean([per_class[n][f"{key}_mean"] for n in scored])
            for count in ("n", "failed", "absent"):
                summary[f"{key}_{count}"] = sum(per_class[n][f"{key}_{count}"] for n in scored)
    if rows and "nsd" in rows[0]:
        summary["nsd_mean"] = nanmean([per_class[n]["nsd_mean"] for n in scored])
        for count in ("n", "absent"):
            summary[f"nsd_{count}"] = sum(per_class[n][f"nsd_{count}"] for n in scored)
    return summary, per_class, {k: v for k, v in result.items() if k != "num_classes"}


def _distance_summary(
    rows: Sequence[dict[str, Any]], key: str, name: str, failures: FailurePolicy
) -> dict[str, Any]:
    values = [r[key][name] for r in rows]
    return summarize_distances(values, failures=failures, worst=[r["diagonal"] for r in rows])


def per_patient(
    rows: list[dict[str, Any]], patients: list[str], scored: list[str], surface: bool
) -> list[dict[str, Any]]:
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for row, patient in zip(rows, patients, strict=True):
        by_patient.setdefault(patient, []).append(row)
    out = []
    for patient, members in by_patient.items():
        entry: dict[str, Any] = {
            "id": patient,
            "num_volumes": len(members),
            "dice_macro": nanmean([r["dice_macro"] for r in members]),
            "dice": {n: nanmean([r["dice"][n] for r in members]) for n in scored},
        }
        if surface:
            entry["hd95_failed"] = sum(1 for r in members for n in scored if np.isinf(r["hd95"][n]))
        out.append(entry)
    return out


def patient_dice(by_patient: list[dict[str, Any]]) -> dict[str, Any]:
    """``dice_patient_mean`` with its counts: a patient whose every volume lacks every scored
    class in truth and prediction (``empty="nan"``) has no Dice and is left out of the mean,
    counted in ``dice_patient_absent`` (it was left out unsaid)."""
    values = np.array([float(p["dice_macro"]) for p in by_patient], dtype=np.float64)
    defined = int(np.isfinite(values).sum())
    return {"dice_patient_mean": nanmean(values), "dice_patient_n": defined,
            "dice_patient_absent": len(by_patient) - defined}  # fmt: skip


def intervals(
    rows: list[dict[str, Any]],
    counts: list[np.ndarray],
    patients: list[str],
    scored: list[str],
    first: int,
    surface: bool,
    failures: FailurePolicy,
    include_background: bool,
    empty: EmptyPolicy,
    n_resamples: int,
    seed: int,
    level: float,
) -> dict[str, Any]:
    """Bootstrap (over patients) intervals of the headline segmentation figures."""
    dice = np.array([r["dice_macro"] for r in rows], dtype=np.float64)
    stacked = np.stack(counts)
    # per-class figures of the cases ``idx``; each headline below is their macro mean
    per_class: dict[str, Any] = {
        "dice_dataset_macro": lambda idx: np.asarray(dice_from_confusion(
            stacked[idx].sum(axis=0), include_background=include_background, empty=empty,
            average="none")),
    }  # fmt: skip
    if surface:
        for key in ("hd95", "msd"):
            values = np.array([[r[key][n] for n in scored] for r in rows], dtype=np.float64)
            worst = np.array([r["diagonal"] for r in rows])
            per_class[f"{key}_mean"] = lambda idx, v=values, w=worst: np.array(
                [summarize_distances(v[idx, j], failures=failures, worst=w[idx])["mean"]
                 for j in range(v.shape[1])]
            )  # fmt: skip
    if rows and "nsd" in rows[0]:
        nsd = np.array([[r["nsd"][n] for n in scored] for r in rows], dtype=np.float64)
        per_class["nsd_mean"] = lambda idx: np.array(
            [nanmean(nsd[idx, j]) for j in range(nsd.shape[1])]
        )
    # the classes each figure averages on all the cases: a resample lacking one (no lesion in
    # any drawn volume) gave the organ's figure alone, another figure, none now (n_valid)
    every = np.arange(len(rows))
    defined = {key: np.isfinite(fn(every)) for key, fn in per_class.items()}

    def stat(idx: np.ndarray) -> dict[str, float]:
        out = {"dice_case_mean": nanmean(dice[idx])}
        for key, fn in per_class.items():
            values = fn(idx)
            lacks = bool((defined[key] & ~np.isfinite(values)).any())
            out[key] = float("nan") if lacks else nanmean(values)
        return out

    return bootstrap_cis(stat, patients, n_resamples=n_resamples, seed=seed, level=level)


def policy(
    include_background: bool,
    empty: EmptyPolicy,
    percentile: float,
    unit: str,
    failures: FailurePolicy,
    sliced: bool,
    grid: str = "preprocessed",
    images: bool = False,
) -> dict[str, Any]:
    """``policy``: how the figures were computed, in words; ``images``: every case a lone 2-D
    image (its ``case_unit`` said "volume (one series; ...)" of 2-D images)."""
    source = grid == "source"
    distance_unit = (
        f"mm (every volume's (z, y, x) spacing {'of' if source else 'after'} "
        f"{'the source images' if source else 'preprocessing'})"
        if unit == "mm"
        else ("voxels of the source images (" if source else "voxels of the preprocessed grid "
              "(after resize or resampling, not of the source images; ")
        + "volumes of different spacing averaged voxel for voxel): at least one volume had "
        "no known spacing (e.g. no slice spacing), so no distance is given in mm"
    )  # fmt: skip
    return {
        "grid": "the source images' own pixels, against the masks as given (the predictions "
        "moved back through the geometric preprocessing, as radpipe predict writes them)"
        if source
        else "the preprocessed grid (the masks went through the same geometric stages as the "
        "images; what crop_or_pad or fit_depth padded is background in both)",
        "case_unit": "image (each 2-D image is its own case); patients average their images"
        if images
        else "volume (one series; a lone 2-D image, or each picture of a series without plane "
        "geometry such as ultrasound, is its own case); patients average their volumes"
        + ("; 2-D slices were stacked by series, slice table secondary" if sliced else ""),
        "include_background": include_background,
        "empty": empty,
        "empty_meaning": _EMPTY_MEANING[empty],
        "false_positive_on_empty_truth": "Dice = Jaccard = 0",
        "surface": f"HD{percentile:g} and symmetric mean surface distance in {distance_unit}",
        "surface_failures": _FAILURES[failures],
        "surface_failure_policy": failures,
        "averages": "case mean = mean over volumes of each volume's macro over classes; "
        "patient mean = mean over patients of the mean of their volumes; dataset = counts "
        "pooled over all volumes",
        "absent_cases": "a volume (patient) with no scored class in its truth or prediction "
        "has no Dice under empty=nan: left out of dice_case_mean (dice_patient_mean) and "
        "counted in dice_case_absent (dice_patient_absent); dice_case_n (dice_patient_n) "
        "were averaged",
        "intervals": f"{BOOTSTRAP_METHOD}; percentile interval; a resample lacking a class "
        "that a macro figure averages on the test cases (no lesion in any drawn volume) gives "
        "no dice_dataset_macro, hd95_mean, msd_mean or nsd_mean (left out of n_valid)",
    }


def nsd_policy(tolerance: float | None, unit: str) -> dict[str, str]:
    """``policy["nsd"]``: how the normalized surface Dice was computed, or why it was not."""
    if tolerance is None:
        return {}
    if unit != "mm":
        return {"nsd": f"not computed: evaluate.nsd_tolerance_mm ({tolerance:g} mm) is in mm "
                "and at least one volume has no known spacing (distances in voxels)"}  # fmt: skip
    return {
        "nsd": f"normalized surface Dice at a tolerance of {tolerance:g} mm (Nikolov et al. "
        "2021): the fraction of both boundaries' elements within the tolerance of the other "
        "boundary, from the same surface distances as HD95 (as MONAI's compute_surface_dice, "
        "use_subvoxels=False); a class in neither mask: null, skipped; a class in one mask "
        "only: 0, averaged; nsd_mean = mean of the class means over volumes"
    }


_EMPTY_MEANING = {
    "nan": "class absent from truth and prediction: null, skipped in averages (not MONAI's "
    "DiceMetric ignore_empty=True, which also makes a false positive on an empty truth null: "
    "here it is 0)",
    "one": "class absent from truth and prediction: scored 1.0 (as MONAI's DiceMetric "
    "ignore_empty=False)",
    "zero": "class absent from truth and prediction: scored 0.0",
}
_FAILURES = {
    "exclude": "a structure in exactly one of truth and prediction (missed, or a false "
    "positive on an empty truth) has an infinite distance: left out of the mean and counted "
    "in *_failed",
    "diagonal": "a structure in exactly one of truth and prediction counts as the image "
    "diagonal (the largest possible distance); counted in *_failed",
}


def _macro(values: dict[str, float]) -> float:
    return nanmean(list(values.values()))


def nanmean(values: Iterable[float] | np.ndarray) -> float:
    array = np.asarray(list(values), dtype=np.float64)
    kept = array[~np.isnan(array)]
    return float(kept.mean()) if kept.size else float("nan")
