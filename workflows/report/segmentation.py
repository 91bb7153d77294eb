"""Segmentation figures for ``metrics.json``: per volume and per patient first, slices second.

The case unit is the volume (one series): a 2-D run's slices are put back together by series
(in ``slice_index`` order) before anything is scored, because a lesion-free slice with one
false-positive pixel is not a failed case (its Dice is 0) while the volume it belongs to may be
segmented well. Patients average their volumes. Slices get a secondary table.

Surface distances (HD95, mean surface distance) are in millimetres only when every volume
carries its full (z, y, x) spacing after preprocessing; otherwise all are in voxels and
labelled so. A failed case (a structure in exactly one of truth and prediction) has an
infinite distance: it is counted next to every mean, and either excluded from it or scored
as the image diagonal (``failures``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.metrics import (
    BOOTSTRAP_METHOD,
    ConfusionAccumulator,
    EmptyPolicy,
    FailurePolicy,
    bootstrap_ci,
    dice_from_confusion,
    image_diagonal,
    summarize_distances,
    surface_metrics_per_class,
)
from pipeline.metrics._arrays import to_numpy


@dataclass
class SegmentationCase:
    """One evaluated sample: a slice or a volume, with what it belongs to.

    ``spacing`` is the sample's element size per axis after preprocessing (mm), ``None`` or
    with NaN when unknown. ``patient`` and ``series`` default to ``id``.
    """

    id: str
    true: Any
    pred: Any
    spacing: Sequence[float] | None = None
    patient: str | None = None
    series: str | None = None
    slice_index: int | None = None


@dataclass
class _Unit:
    id: str
    patient: str
    true: np.ndarray
    pred: np.ndarray
    spacing: tuple[float, ...] | None


def evaluate_segmentation(
    cases: Iterable[SegmentationCase | tuple[Any, ...]],
    num_classes: int,
    class_names: Sequence[str],
    *,
    include_background: bool = False,
    empty: EmptyPolicy = "nan",
    surface: bool = True,
    percentile: float = 95.0,
    failures: FailurePolicy = "exclude",
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Every segmentation figure, per volume, per patient and per slice (``metrics.json``).

    Parameters
    ----------
    cases
        :class:`SegmentationCase` items, or ``(id, true_mask, pred_mask, spacing)`` tuples
        (each its own volume and patient). Masks are integer label maps ``(H, W)`` or
        ``(D, H, W)`` of the same shape; spacing in mm per axis.
    num_classes, class_names
        ``K`` and its names (background first).
    include_background
        Whether class 0 is scored.
    empty
        Empty-mask policy for Dice and Jaccard (see :mod:`pipeline.metrics.overlap`).
    surface
        Also compute HD95 and mean surface distance per volume and class.
    percentile
        Percentile of the Hausdorff distance (95: HD95).
    failures
        ``"exclude"`` (failed cases left out of distance means, and counted) or
        ``"diagonal"`` (a failed case counts as its image diagonal).
    n_resamples, seed, level
        Bootstrap over patients for the headline intervals (``n_resamples=0``: none).

    Returns
    -------
    dict
        ``task``, ``case_unit`` ("volume"), ``num_cases`` (volumes), ``num_patients``,
        ``num_slices`` (0 unless slices were given), ``distance_unit`` ("mm" or "voxel"),
        ``policy``, ``summary`` (volume means: ``dice_case_mean``, ``jaccard_case_mean``;
        ``dice_patient_mean``; pooled ``dice_dataset_macro``/``jaccard_dataset_macro``;
        ``hd95_mean``/``msd_mean`` with ``_n``, ``_failed``, ``_absent`` counts),
        ``intervals`` (per summary key), ``per_class``, ``dataset`` (pooled counts),
        ``per_case`` (volume rows), ``per_patient`` and ``per_slice`` (secondary).
    """
    items = [_as_case(c) for c in cases]
    if not items:
        raise ValueError("No case to evaluate.")
    units, sliced = _volumes(items)
    unit = "mm" if all(u.spacing is not None for u in units) else "voxel"
    if unit == "voxel":
        units = [_Unit(u.id, u.patient, u.true, u.pred, None) for u in units]
    first = 0 if include_background else 1
    scored = list(class_names)[first:]
    args = (num_classes, include_background, empty, surface, percentile)
    rows, counts = _score_units(units, scored, first, *args)
    summary, per_class, dataset = _summaries(
        rows, counts, scored, first, *args[:3], surface, failures
    )
    patients = [u.patient for u in units]
    per_patient = _per_patient(rows, patients, scored, surface)
    summary["dice_patient_mean"] = _nanmean([p["dice_macro"] for p in per_patient])
    out: dict[str, Any] = {
        "task": "segmentation",
        "num_classes": num_classes,
        "class_names": list(class_names),
        "case_unit": "volume",
        "num_cases": len(units),
        "num_patients": len(per_patient),
        "num_slices": len(items) if sliced else 0,
        "distance_unit": unit,
        "policy": _policy(include_background, empty, percentile, unit, failures, sliced),
        "summary": summary,
        "per_class": per_class,
        "dataset": dataset,
        "per_case": rows,
        "per_patient": per_patient,
    }
    if n_resamples:
        out["intervals"] = _intervals(
            rows,
            counts,
            patients,
            scored,
            first,
            surface,
            failures,
            include_background,
            empty,
            n_resamples,
            seed,
            level,
        )
    if sliced:
        slice_units = [
            _Unit(
                c.id,
                c.patient or c.id,
                to_numpy(c.true),
                to_numpy(c.pred),
                _valid_spacing(c.spacing, np.ndim(c.true)),
            )
            for c in items
        ]
        slice_unit = "mm" if all(u.spacing is not None for u in slice_units) else "voxel"
        if slice_unit == "voxel":
            slice_units = [_Unit(u.id, u.patient, u.true, u.pred, None) for u in slice_units]
        slice_rows, _ = _score_units(slice_units, scored, first, *args)
        out["per_slice"] = slice_rows
        out["slices"] = {
            "distance_unit": slice_unit,
            "dice_slice_mean": _nanmean([r["dice_macro"] for r in slice_rows]),
            "note": "secondary: 2-D slices are not independent cases; a lesion-free slice "
            "with one false-positive pixel scores Dice 0",
        }
    return out


def _as_case(case: SegmentationCase | tuple[Any, ...]) -> SegmentationCase:
    if isinstance(case, SegmentationCase):
        return case
    return SegmentationCase(*case)


def _valid_spacing(spacing: Sequence[float] | None, ndim: int) -> tuple[float, ...] | None:
    """The spacing when fully known (one finite positive value per axis), else ``None``."""
    if spacing is None or len(spacing) != ndim:
        return None
    values = tuple(float(v) for v in spacing)
    return values if all(np.isfinite(v) and v > 0 for v in values) else None


def _volumes(items: list[SegmentationCase]) -> tuple[list[_Unit], bool]:
    """Samples grouped into volumes by series (2-D slices stacked in ``slice_index`` order).

    Returns the volumes and whether any volume was assembled from several slices.
    """
    groups: dict[str, list[SegmentationCase]] = {}
    for c in items:
        groups.setdefault(c.series or c.id, []).append(c)
    units, sliced = [], False
    for key, members in groups.items():
        patient = members[0].patient or key
        if len(members) == 1:  # a volume, or a 2-D image that is its own case
            c = members[0]
            units.append(
                _Unit(
                    key,
                    patient,
                    to_numpy(c.true),
                    to_numpy(c.pred),
                    _valid_spacing(c.spacing, np.ndim(c.true)),
                )
            )
            continue
        sliced = True
        members = sorted(members, key=lambda c: (c.slice_index is None, c.slice_index or 0))
        shapes = {np.shape(c.true) for c in members}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise ValueError(f"Series {key}: slices of different shapes {sorted(shapes)}.")
        true = np.stack([to_numpy(c.true) for c in members])
        pred = np.stack([to_numpy(c.pred) for c in members])
        spacing = members[0].spacing
        # a stack of slices has a known 3-D spacing only if the samples say so (3 values)
        units.append(_Unit(key, patient, true, pred, _valid_spacing(spacing, 3)))
    return units, sliced


def _score_units(
    units: list[_Unit],
    scored: list[str],
    first: int,
    num_classes: int,
    include_background: bool,
    empty: EmptyPolicy,
    surface: bool,
    percentile: float,
) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """A row per unit (Dice, Jaccard, HD95, MSD by class) and its confusion matrix."""
    acc = ConfusionAccumulator(
        num_classes, per_case=True, include_background=include_background, empty=empty
    )
    rows = []
    for u in units:
        acc.update(u.true, u.pred, ids=[u.id])
        row: dict[str, Any] = {"id": u.id, "patient": u.patient}
        if surface:
            s = surface_metrics_per_class(
                u.true,
                u.pred,
                num_classes,
                u.spacing,
                include_background=include_background,
                percentile=percentile,
            )
            row["hd95"] = dict(zip(scored, s["hd95"], strict=True))
            row["msd"] = dict(zip(scored, s["msd"], strict=True))
            row["diagonal"] = image_diagonal(u.true.shape, u.spacing)
        rows.append(row)
    per_case = acc.compute()["per_case"]
    for i, row in enumerate(rows):
        row["dice_macro"] = per_case["dice_macro"][i]
        row["dice"] = dict(zip(scored, per_case["dice"][i][first:], strict=True))
        row["jaccard"] = dict(zip(scored, per_case["jaccard"][i][first:], strict=True))
    return rows, list(acc.case_counts)


def _summaries(
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
            "dice_case_mean": _nanmean([r["dice"][name] for r in rows]),
            "jaccard_case_mean": _nanmean([r["jaccard"][name] for r in rows]),
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
        per_class[name] = entry
    summary: dict[str, Any] = {
        "dice_case_mean": _nanmean([r["dice_macro"] for r in rows]),
        "jaccard_case_mean": _nanmean([_macro(r["jaccard"]) for r in rows]),
        "dice_dataset_macro": result["dice_macro"],
        "jaccard_dataset_macro": result["jaccard_macro"],
    }
    if surface:
        for key in ("hd95", "msd"):
            summary[f"{key}_mean"] = _nanmean([per_class[n][f"{key}_mean"] for n in scored])
            for count in ("n", "failed", "absent"):
                summary[f"{key}_{count}"] = sum(per_class[n][f"{key}_{count}"] for n in scored)
    return summary, per_class, {k: v for k, v in result.items() if k != "num_classes"}


def _distance_summary(
    rows: Sequence[dict[str, Any]], key: str, name: str, failures: FailurePolicy
) -> dict[str, Any]:
    values = [r[key][name] for r in rows]
    return summarize_distances(values, failures=failures, worst=[r["diagonal"] for r in rows])


def _per_patient(
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
            "dice_macro": _nanmean([r["dice_macro"] for r in members]),
            "dice": {n: _nanmean([r["dice"][n] for r in members]) for n in scored},
        }
        if surface:
            entry["hd95_failed"] = sum(1 for r in members for n in scored if np.isinf(r["hd95"][n]))
        out.append(entry)
    return out


def _intervals(
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
    stats: dict[str, Any] = {
        "dice_case_mean": lambda idx: _nanmean(dice[idx]),
        "dice_dataset_macro": lambda idx: float(
            dice_from_confusion(
                stacked[idx].sum(axis=0), include_background=include_background, empty=empty
            )
        ),
    }
    if surface:
        for key in ("hd95", "msd"):
            values = np.array([[r[key][n] for n in scored] for r in rows], dtype=np.float64)
            worst = np.array([r["diagonal"] for r in rows])
            stats[f"{key}_mean"] = lambda idx, v=values, w=worst: _nanmean(
                [
                    summarize_distances(v[idx, j], failures=failures, worst=w[idx])["mean"]
                    for j in range(v.shape[1])
                ]
            )
    return {
        key: bootstrap_ci(fn, patients, n_resamples=n_resamples, seed=seed, level=level)
        for key, fn in stats.items()
    }


def _policy(
    include_background: bool,
    empty: EmptyPolicy,
    percentile: float,
    unit: str,
    failures: FailurePolicy,
    sliced: bool,
) -> dict[str, Any]:
    distance_unit = (
        "mm (every volume's (z, y, x) spacing after preprocessing)"
        if unit == "mm"
        else "voxels: at least one volume had no known spacing (e.g. no slice spacing), so no "
        "distance is given in mm"
    )
    return {
        "case_unit": "volume (one series); patients average their volumes"
        + ("; 2-D slices were stacked by series, slice table secondary" if sliced else ""),
        "include_background": include_background,
        "empty": empty,
        "empty_meaning": _EMPTY_MEANING[empty],
        "false_positive_on_empty_truth": "Dice = Jaccard = 0",
        "surface": f"HD{percentile:g} and symmetric mean surface distance in {distance_unit}",
        "surface_failures": _FAILURES[failures],
        "surface_failure_policy": failures,
        "averages": "case mean = mean over volumes of each volume's macro over classes; "
        "dataset = counts pooled over all volumes",
        "intervals": f"{BOOTSTRAP_METHOD}; percentile interval",
    }


_EMPTY_MEANING = {
    "nan": "class absent from truth and prediction: null, skipped in averages",
    "one": "class absent from truth and prediction: scored 1.0",
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
    return _nanmean(list(values.values()))


def _nanmean(values: Iterable[float] | np.ndarray) -> float:
    array = np.asarray(list(values), dtype=np.float64)
    kept = array[~np.isnan(array)]
    return float(kept.mean()) if kept.size else float("nan")
