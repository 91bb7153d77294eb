"""The pixel size the model saw in training, and new images of another size said at predict.

A model learns anatomy at the scale of its training images after preprocessing: millimetres
per model pixel. ``radpipe predict`` checked a new image's modality, channels, window and
shape, but not its scale: a radiograph of 0.7 mm pixels fed to a model trained on 0.35 mm
ones (without a resample stage, or with a resize stage and another field of view) shows
every structure at half its trained size, and was predicted without a word.

:func:`trained_pixel_range` records the in-plane spacing range of the training images after
preprocessing in ``stages/data.json`` (``pixel_mm``); :func:`note_other_scale` warns about
predicted images outside it by more than :data:`TOLERANCE`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.words import are, counted

__all__ = [
    "TOLERANCE",
    "in_plane_mm",
    "note_other_scale",
    "representatives",
    "runs_pixel_range",
    "trained_pixel_range",
]

log = logging.getLogger("radpipe")

#: Pixel sizes within this factor of the training range count as the same scale.
TOLERANCE = 1.1


def in_plane_mm(spacing: Sequence[float] | None) -> tuple[float, float] | None:
    """The last two values of a spacing (rows, columns) when both are finite and > 0."""
    if not spacing or len(spacing) < 2:
        return None
    rows, cols = (float(v) for v in list(spacing)[-2:])
    ok = all(math.isfinite(v) and v > 0 for v in (rows, cols))
    return (rows, cols) if ok else None


def representatives(pipe: Any, raw: Sequence[Any]) -> list[tuple[Any, list[Any]]]:
    """The training samples ``raw`` in groups that ``pipe`` gives one shape and pixel size,
    each with one member preprocessed: ``[(pipe(first member), members), ...]``.

    Samples of one raw shape and spacing form a group when every geometric stage of ``pipe``
    sets the size from those two alone (:func:`_size_from_shape`); else each sample is its
    own group (a ``crop_foreground`` gives each image the shape of its own foreground's box).
    """
    groups: dict[tuple[Any, ...], list[Any]] = {}
    every = not _size_from_shape(pipe)
    for i, s in enumerate(raw):
        spacing = s.meta.get("spacing")
        groups.setdefault((i if every else s.image.shape,
                           None if spacing is None else tuple(spacing)), []).append(s)  # fmt: skip
    return [(pipe(members[0]), members) for members in groups.values()]


def trained_pixel_range(
    pipe: Any, raw: Sequence[Any], groups: list[tuple[Any, list[Any]]] | None = None
) -> list[float] | None:
    """``[smallest, largest]`` in-plane pixel size in mm of the training samples ``raw``
    after ``pipe``; ``None`` when any has none known. ``groups``: :func:`representatives`
    of ``raw``, when already made."""
    groups = representatives(pipe, raw) if groups is None else groups
    sizes = [in_plane_mm(done.meta.get("spacing")) for done, _ in groups]
    if not sizes or any(v is None for v in sizes):
        return None
    values = [v for pair in sizes if pair is not None for v in pair]
    return [round(min(values), 6), round(max(values), 6)]


def _size_from_shape(pipe: Any) -> bool:
    """Whether every stage of ``pipe`` sets a sample's pixel size from its shape and spacing
    alone: no geometric stage but resize, resample, crop_or_pad and fit_depth, and no stage
    of unknown kind (a MONAI transform may crop by content)."""
    from pipeline.stages import CropOrPad, FitDepth, Identity, Resample, Resize

    known = (CropOrPad, FitDepth, Identity, Resample, Resize)
    return all(isinstance(st, known) or st.kind not in ("geometric", "other") for _, st in pipe)


def runs_pixel_range(folders: Sequence[Path], key: str = "pixel_mm") -> list[float] | None:
    """``[smallest, largest]`` of the ``pixel_mm`` ranges the folds' ``stages/data.json``
    record (every fold of a k-fold run: each trained on other images); ``None`` when one
    records none (a run from before 2026-12-01, or images without a known pixel size).
    ``key="slice_mm"``: the slice steps of a series run (runs since 2026-12-02)."""
    ranges = [json.loads((f / "stages" / "data.json").read_text()).get(key)
              for f in folders]  # fmt: skip
    if not ranges or any(not r for r in ranges):
        return None
    return [min(float(r[0]) for r in ranges), max(float(r[1]) for r in ranges)]


def note_other_scale(
    found: list[tuple[str, tuple[float, float] | None]], trained: Sequence[float] | None
) -> int:
    """Warn about the predicted images (``(name, in-plane mm after preprocessing)``) whose
    pixel size lies outside the training range ``trained`` by more than :data:`TOLERANCE`;
    returns how many."""
    if not trained:
        return 0
    _note_unknown_scale(found, trained)
    low, high = float(trained[0]) / TOLERANCE, float(trained[1]) * TOLERANCE
    other = [(n, mm) for n, mm in found if mm is not None and not low <= min(mm) <= max(mm) <= high]
    if other:
        name, mm = other[0]
        size = " x ".join(f"{v:.4g}" for v in mm)
        log.warning(
            "%s of %d %s a pixel size after preprocessing outside that of the run's training "
            "images (%s mm; e.g. %s: %s mm): the model sees their anatomy at another scale "
            "than it learnt; check these predictions (a resample stage gives every image one "
            "pixel size)", counted(len(other), "image"), len(found),
            are(len(other), "has", "have"), _span(trained), name, size,
        )  # fmt: skip
    return len(other)


def _note_unknown_scale(
    found: list[tuple[str, tuple[float, float] | None]], trained: Sequence[float]
) -> None:
    """Warn about the predicted images without a pixel size (no PixelSpacing or the like)
    when the training images all had one: their scale cannot be checked (it was unsaid)."""
    from pipeline.data.io import readable_format

    unknown = [n for n, mm in found if mm is None]
    if unknown:
        # a PNG or NPY holds no pixel size: a folder of them never has one (README, "Images
        # already converted": a list CSV's spacing column gives it)
        how = ""
        if readable_format(unknown[0]):
            how = (" (give SRC as a list CSV with an 'image' and a 'spacing' column, mm, as "
                   "for a run's list: README, Images already converted)")  # fmt: skip
        log.warning(
            "%s of %d %s no pixel size (no PixelSpacing or other spacing in the header, nor a "
            "spacing column in the image list; e.g. %s), so whether the model sees their "
            "anatomy at the scale of its training images (%s mm after preprocessing) cannot be "
            "checked; check these predictions%s",
            counted(len(unknown), "image"), len(found), are(len(unknown), "has", "have"),
            unknown[0], _span(trained), how,
        )  # fmt: skip


def _span(values: Sequence[float]) -> str:
    low, high = (f"{float(v):.4g}" for v in values)
    return low if low == high else f"{low}-{high}"
