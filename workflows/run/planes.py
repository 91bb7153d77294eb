"""Image planes (axial, coronal, sagittal) of the training images, and predictions of others.

A 2-D model of axial MR slices takes a sagittal or coronal slice of the same size and pixel
size without complaint: the anatomy it sees is another cut through the body, and its masks
are made with no word. The run records the planes of its training series in
``stages/data.json`` (``planes``, runs since 2026-12-02); ``radpipe predict`` warns about the
images of another plane (:func:`note_other_planes`).

A slice's plane is that of the patient axis its normal (ImageOrientationPatient's row x column
directions, PS3.3 C.7.6.2.1.1) lies nearest: L-R sagittal, A-P coronal, S-I axial. One
header is read per series (its first image); images without ImageOrientationPatient
(radiographs, secondary captures) have no plane and are never said.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.words import are, counted

__all__ = [
    "image_plane",
    "note_other_planes",
    "note_other_slices",
    "runs_planes",
    "series_planes",
    "trained_planes",
    "trained_slice_range",
]

log = logging.getLogger("radpipe")

_PLANES = ("sagittal", "coronal", "axial")  # the normal along x (L-R), y (A-P), z (S-I)


def image_plane(orientation: Sequence[float]) -> str:
    """The plane of a slice whose ImageOrientationPatient is ``orientation`` (6 values).

    Examples
    --------
    >>> image_plane([1, 0, 0, 0, 1, 0]), image_plane([0, 1, 0, 0, 0, -1])
    ('axial', 'sagittal')
    """
    iop = np.asarray(orientation, dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:])
    return _PLANES[int(np.argmax(np.abs(normal)))]


def series_planes(source: Path, rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """``series_key -> plane`` of the conversion ``rows`` (a manifest's, ``source`` relative
    to the DICOM folder ``source``), one header read per series; series without a plane are
    left out."""
    from pipeline.dicom.frames import frame_refs
    from pipeline.dicom.header import read_dataset
    from pipeline.errors import RadpipeError

    planes: dict[str, str] = {}
    tried: set[str] = set()
    for row in rows:
        key, rel = row.get("series_key") or "", row.get("source") or ""
        if not rel or key in tried:
            continue
        tried.add(key)
        ds = read_dataset(source / rel, rel)
        try:
            refs = frame_refs(ds, rel) if hasattr(ds, "get") else []
        except (ValueError, TypeError, RadpipeError):
            continue
        frame = int(row.get("frame") or 0)
        ref = refs[frame] if frame < len(refs) else None
        if ref is not None and ref.orientation is not None:
            planes[key] = image_plane(ref.orientation)
    return planes


def runs_planes(folders: Sequence[Path]) -> list[str]:
    """The planes every fold's ``stages/data.json`` records (empty for runs before them)."""
    found: set[str] = set()
    for folder in folders:
        info = json.loads((folder / "stages" / "data.json").read_text())
        found.update(info.get("planes") or [])
    return sorted(found)


def note_other_planes(
    source: Path, rows: Sequence[dict[str, Any]], trained: Sequence[str], by_source: bool
) -> dict[str, int]:
    """Warn about the predicted images (manifest ``rows`` of the DICOM folder ``source``) whose
    plane the training series had not (``trained``, the run's ``planes``); returns how many
    of each such plane (what ``radpipe evaluate`` records in ``metrics.json``). They are
    named by their source file (``by_source``), else by their output."""
    if not trained:
        return {}
    planes = series_planes(source, rows)
    other = [(r, planes[r["series_key"]]) for r in rows
             if planes.get(r["series_key"], trained[0]) not in trained]  # fmt: skip
    if other:
        kinds = sorted({p for _, p in other})
        row = other[0][0]
        log.warning(
            "%s of %d %s %s slices, but the run trained on %s slices only: the model sees "
            "another cut through the anatomy than it learnt; check these predictions (e.g. %s)",
            counted(len(other), "image"), len(rows), are(len(other), "is", "are"),
            " and ".join(kinds), " and ".join(trained),
            row["source"] if by_source and row.get("source") else row["output"],
        )  # fmt: skip
    return {p: sum(1 for _, q in other if q == p) for p in sorted({p for _, p in other})}


def trained_planes(config: Any, study: Any, train_keys: Sequence[str]) -> list[str]:
    """The planes of the training series ``train_keys`` of a DICOM run's ``study`` (what
    ``stages/data.json`` records as ``planes``); empty for an images run."""
    from pipeline.data.io import read_manifest

    if study.kind != "dicom":
        return []
    keys = set(train_keys)
    rows = [r for r in read_manifest(study.root / "manifest.csv") if r["series_key"] in keys]
    return sorted(set(series_planes(Path(config.data.source), rows).values()))


def trained_slice_range(groups: Sequence[tuple[Any, list[Any]]]) -> list[float] | None:
    """``[smallest, largest]`` slice step in mm of a series run's training volumes after
    preprocessing (``groups``: :func:`~workflows.run.scale.representatives`, each with one
    member preprocessed); ``None`` for 2-D samples or when one has none known."""
    steps = []
    for done, _ in groups:
        spacing = done.meta.get("spacing")
        step = float(spacing[0]) if spacing is not None and len(spacing) == 3 else math.nan
        if not (math.isfinite(step) and step > 0):
            return None
        steps.append(step)
    return [round(min(steps), 6), round(max(steps), 6)] if steps else None


def note_other_slices(
    found: Sequence[tuple[str, Sequence[float] | None]], trained: Sequence[float] | None
) -> int:
    """Warn about the predicted volumes (``(name, spacing after preprocessing)``) whose slice
    step lies outside the training range ``trained`` (``slice_mm``) by more than
    :data:`~workflows.run.scale.TOLERANCE`; returns how many."""
    from workflows.run.scale import TOLERANCE

    if not trained:
        return 0
    low, high = float(trained[0]) / TOLERANCE, float(trained[1]) * TOLERANCE
    other = [(n, float(mm[0])) for n, mm in found
             if mm is not None and len(mm) == 3 and not low <= float(mm[0]) <= high]  # fmt: skip
    if other:
        span = "-".join(dict.fromkeys(f"{float(v):.4g}" for v in trained))
        log.warning(
            "%s of %d %s a slice step after preprocessing outside that of the run's training "
            "series (%s mm; e.g. %s: %.4g mm): the model sees their anatomy stretched or "
            "squeezed along the slices; check these predictions (a resample stage gives every "
            "series one slice step)", counted(len(other), "series"), len(found),
            are(len(other), "has", "have"), span, *other[0],
        )  # fmt: skip
    return len(other)
