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
    ConfusionAccumulator,
    EmptyPolicy,
    FailurePolicy,
    image_diagonal,
    surface_metrics_per_class,
)
from pipeline.metrics._arrays import to_numpy
from workflows.report.seg_summary import (
    intervals,
    nanmean,
    nsd_policy,
    patient_dice,
    per_patient,
    policy,
    summaries,
)
from workflows.report.undefined import segmentation_reasons


@dataclass
class SegmentationCase:
    """One evaluated sample: a slice or a volume, with what it belongs to.

    ``spacing`` is the sample's element size per axis after preprocessing (mm), ``None`` or
    with NaN when unknown. ``patient`` and ``series`` default to ``id``. A 2-D slice's
    ``slice_index`` is its place in its series' volume and ``slice_spacing`` that volume's
    one slice step (mm; ``None`` when uneven or unknown): slices stacked into a volume get
    the 3-D spacing ``(slice_spacing, *spacing)`` when they are consecutive and share both.
    ``region`` (bool, the mask's shape) marks the elements that hold the image, where
    ``crop_or_pad``/``fit_depth`` padded the rest; ``None``: all of them. The worst-case
    distance of ``failures="diagonal"`` is the diagonal of the image, not of the padding.
    """

    id: str
    true: Any
    pred: Any
    spacing: Sequence[float] | None = None
    patient: str | None = None
    series: str | None = None
    slice_index: int | None = None
    slice_spacing: float | None = None
    region: Any = None


@dataclass
class _Unit:
    id: str
    patient: str
    true: np.ndarray
    pred: np.ndarray
    spacing: tuple[float, ...] | None
    region: np.ndarray | None = None

    def diagonal(self) -> float:
        """The image's diagonal: of the bounding box of ``region`` (padding left out)."""
        if self.region is None or not self.region.any():
            return image_diagonal(self.true.shape, self.spacing)
        box = [np.flatnonzero(self.region.any(axis=tuple(a for a in range(self.region.ndim)
                                                         if a != axis)))
               for axis in range(self.region.ndim)]  # fmt: skip
        return image_diagonal([int(b[-1] - b[0] + 1) for b in box], self.spacing)


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
    grid: str = "preprocessed",
    nsd_tolerance: float | None = None,
) -> dict[str, Any]:
    """Every segmentation figure, per volume, per patient and per slice (``metrics.json``).

    Parameters
    ----------
    cases
        :class:`SegmentationCase` items, or ``(id, true_mask, pred_mask, spacing)`` tuples
        (each its own volume and patient). Masks are integer label maps ``(H, W)`` or
        ``(D, H, W)`` of the same shape; spacing in mm per axis.
    num_classes, class_names, include_background, empty
        ``K`` and its names (background first); whether class 0 is scored; the empty-mask
        policy (:mod:`pipeline.metrics.overlap`).
    surface, percentile, nsd_tolerance
        Also HD{percentile}, mean surface distance and (tolerance in mm; none in voxels:
        ``policy["nsd"]``) normalized surface Dice per volume and class.
    failures
        ``"exclude"`` (failed cases left out of distance means, and counted) or ``"diagonal"``.
    n_resamples, seed, level, grid
        Bootstrap over patients for the headline intervals (``n_resamples=0``: none); the
        masks' grid for ``policy``, ``"preprocessed"`` or ``"source"`` (the images').

    Returns
    -------
    dict
        ``case_unit`` ("image" or "volume"), ``num_cases``, ``num_patients``, ``num_slices``,
        ``distance_unit`` ("mm" or "voxel"), ``policy``, ``summary`` (``dice_case_mean``,
        ``dice_patient_mean`` (both with ``_n``, ``_absent``), pooled ``dice_dataset_macro``,
        ``hd95_mean`` with ``_n``, ``_failed``, ``_absent``, ``nsd_mean``, ...),
        ``nsd_tolerance_mm``, ``intervals``, ``per_class``, ``dataset``, ``per_case`` (volumes;
        ``surface_failed``, ``surface_absent``: the classes whose distances are infinite,
        undefined; ``null`` in JSON), ``per_patient``, and ``per_slice`` (secondary).
    """
    items = [_as_case(c) for c in cases]
    if not items:
        raise ValueError("No case to evaluate.")
    volumes, sliced = _volumes(items)
    units, unit = _one_unit(volumes)
    first = 0 if include_background else 1
    scored = list(class_names)[first:]
    tolerance = nsd_tolerance if surface and unit == "mm" else None  # none in voxels
    args = (num_classes, include_background, empty, surface, percentile, tolerance)
    rows, counts = _score_units(units, scored, first, *args)
    summary, per_class, dataset = summaries(rows, counts, scored, first, *args[:4], failures)
    patients = [u.patient for u in units]
    by_patient = per_patient(rows, patients, scored, surface)
    summary |= patient_dice(by_patient)
    flat = not sliced and all(np.ndim(u.true) == 2 for u in volumes)  # each case a 2-D image
    out = _counts(num_classes, class_names, len(units), len(by_patient), len(items) * sliced,
                  flat)  # fmt: skip
    out |= {
        "distance_unit": unit,
        "policy": policy(include_background, empty, percentile, unit, failures, sliced, grid, flat)
        | nsd_policy(nsd_tolerance if surface else None, unit),
        "summary": summary,
        "per_class": per_class,
        "dataset": dataset | {"confusion_matrix_unit": _counted(units)},
        "per_case": rows,
        "per_patient": by_patient,
    } | ({} if tolerance is None else {"nsd_tolerance_mm": tolerance})
    if n_resamples:
        settings = (surface, failures, include_background, empty, n_resamples, seed, level)
        out["intervals"] = intervals(rows, counts, patients, scored, first, *settings)
    out |= _slice_table(items, scored, first, args) if sliced else {}
    why = segmentation_reasons(summary, scored, f"{out['case_unit']}s")  # a null figure's why
    return out | ({"undefined_metrics": why} if why else {})


def _counts(
    num_classes: int, class_names: Sequence[str], volumes: int, patients: int, slices: int,
    flat: bool,
) -> dict[str, Any]:  # fmt: skip
    """The head of ``metrics.json``: what was scored, and how many (``num_slices``: 0 unless
    2-D slices were stacked into volumes; ``flat``: every case a 2-D image)."""
    return {"task": "segmentation", "num_classes": num_classes, "class_names": list(class_names),
            "case_unit": "image" if flat else "volume", "num_cases": volumes,
            "num_patients": patients, "num_slices": slices}  # fmt: skip


def _counted(units: list[_Unit]) -> str:
    """What the pooled confusion matrix counts: ``pixels`` when every case is a 2-D image,
    else ``voxels`` (the report's figure says which)."""
    return "pixels" if all(np.ndim(u.true) == 2 for u in units) else "voxels"


def _one_unit(units: list[_Unit]) -> tuple[list[_Unit], str]:
    """``mm`` when every unit has a full spacing, else all in voxels (spacing dropped)."""
    if all(u.spacing is not None for u in units):
        return units, "mm"
    return [_Unit(u.id, u.patient, u.true, u.pred, None, u.region) for u in units], "voxel"


def _slice_table(
    items: list[SegmentationCase], scored: list[str], first: int, args: tuple[Any, ...]
) -> dict[str, Any]:
    """The secondary per-slice table of a 2-D run (each slice scored on its own)."""
    slices, unit = _one_unit(
        [
            _Unit(c.id, c.patient or c.id, to_numpy(c.true), to_numpy(c.pred),
                  _valid_spacing(c.spacing, np.ndim(c.true)))
            for c in items
        ]
    )  # fmt: skip
    if unit != "mm":  # the tolerance is in mm: no NSD in voxels
        args = (*args[:-1], None)
    rows, _ = _score_units(slices, scored, first, *args)
    return {
        "per_slice": rows,
        "slices": {
            "distance_unit": unit,
            "dice_slice_mean": nanmean([r["dice_macro"] for r in rows]),
            "note": "secondary: 2-D slices are not independent cases; a lesion-free slice "
            "with one false-positive pixel scores Dice 0",
        },
    }


def _as_case(case: SegmentationCase | tuple[Any, ...]) -> SegmentationCase:
    if isinstance(case, SegmentationCase):
        return case
    return SegmentationCase(*case)


def _region(case: SegmentationCase) -> np.ndarray | None:
    """The case's image region as bool, or ``None`` (all of the array is image)."""
    return None if case.region is None else np.asarray(to_numpy(case.region), dtype=bool)


def _valid_spacing(spacing: Sequence[float] | None, ndim: int) -> tuple[float, ...] | None:
    """The spacing when fully known (one finite positive value per axis), else ``None``."""
    if spacing is None or len(spacing) != ndim:
        return None
    values = tuple(float(v) for v in spacing)
    return values if all(np.isfinite(v) and v > 0 for v in values) else None


def _stack_spacing(members: list[SegmentationCase]) -> tuple[float, ...] | None:
    """The (z, y, x) spacing of slices stacked in ``slice_index`` order, or ``None``.

    Known only when every slice has the same in-plane spacing and the same finite slice step,
    and their indices are consecutive (one volume, no slice missing): anything else (two
    volumes of one series, a gap, uneven spacing) keeps the distances in voxels.
    """
    planes = {None if c.spacing is None else tuple(float(v) for v in c.spacing) for c in members}
    steps = {c.slice_spacing for c in members}
    indices = [c.slice_index for c in members]
    if len(planes) != 1 or len(steps) != 1 or any(i is None for i in indices):
        return None
    plane, step = next(iter(planes)), next(iter(steps))
    first = int(indices[0])  # type: ignore[arg-type]
    if (
        plane is None
        or len(plane) != 2
        or step is None
        or indices != list(range(first, first + len(members)))
    ):
        return None
    return _valid_spacing((float(step), *plane), 3)


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
                    _region(c),
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
        region = None
        if any(c.region is not None for c in members):
            region = np.stack([np.ones(np.shape(c.true), bool) if c.region is None
                               else np.asarray(to_numpy(c.region), dtype=bool)
                               for c in members])  # fmt: skip
        units.append(_Unit(key, patient, true, pred, _stack_spacing(members), region))
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
    tolerance: float | None = None,
) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """A row per unit (Dice, Jaccard, HD95, MSD and, with ``tolerance``, NSD by class) and
    its confusion matrix."""
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
                tolerance=tolerance,
            )
            for key in s:  # hd95, msd and nsd: one surface-distance computation per class
                row[key] = dict(zip(scored, s[key], strict=True))
            # both are null in metrics.json: which classes failed, which were not there
            row["surface_failed"] = [n for n, v in zip(scored, s["hd95"]) if np.isinf(v)]
            row["surface_absent"] = [n for n, v in zip(scored, s["hd95"]) if np.isnan(v)]
            row["diagonal"] = u.diagonal()
        rows.append(row)
    per_case = acc.compute()["per_case"]
    for i, row in enumerate(rows):
        row["dice_macro"] = per_case["dice_macro"][i]
        row["dice"] = dict(zip(scored, per_case["dice"][i][first:], strict=True))
        row["jaccard"] = dict(zip(scored, per_case["jaccard"][i][first:], strict=True))
    return rows, list(acc.case_counts)
