"""Predicted masks back on the source pixels: every spatial stage recorded, then undone.

``radpipe predict`` runs a segmentation model on preprocessed images; its masks must be
written on the pixels of the source image. :func:`traced` runs a fitted preprocessing
pipeline on one sample and records, in ``meta["spatial"]``, what each geometric stage did to
the spatial shape (as TorchIO's ``history`` and MONAI's invertible transforms record theirs):

=================  ===========  =====================================================
stage              op           recorded (spatial shapes before and after, plus)
=================  ===========  =====================================================
``resize``         resize       -
``resample``       resize       - (the shape it rounded to)
``fit_depth``      resize or    ``method="resample"`` / ``"crop_pad"`` along D
                   crop_or_pad
``crop_or_pad``    crop_or_pad  - (centred: the offsets follow from the two shapes)
``crop_foreground`` crop        ``start``: the box's first pixel per axis
=================  ===========  =====================================================

:func:`invert` undoes the records last to first: resizes with nearest neighbour (class
indices are never blended; per-class probabilities may be resized linearly), crops and pads
back by the same offsets, and fills what a crop cut away with background. A geometric stage
not in the table is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.ops.geometry import crop_or_pad, resize
from pipeline.sample import Sample
from pipeline.stage import Pipeline, Stage

__all__ = ["image_region", "invert", "on_source_pixels", "spatial_record", "traced"]


def traced(pipeline: Pipeline | None, sample: Sample) -> Sample:
    """``pipeline(sample)`` with ``meta["spatial"]``: one record per geometric stage.

    Raises
    ------
    RadpipeError
        A geometric stage whose effect cannot be recorded (and so not undone).
    """
    records: list[dict[str, Any]] = list(sample.meta.get("spatial", []))
    for name, stage in pipeline or []:
        before = sample
        sample = stage(sample)
        if stage.kind == "geometric" or before.spatial_shape != sample.spatial_shape:
            records.append(spatial_record(name, stage, before, sample))
    return sample.replace(meta={**sample.meta, "spatial": records})


def spatial_record(name: str, stage: Stage, before: Sample, after: Sample) -> dict[str, Any]:
    """What ``stage`` (named ``name`` in its pipeline) did to the spatial shape."""
    from pipeline.stages.geometry import CropForeground, CropOrPad, FitDepth, Resample, Resize

    record: dict[str, Any] = {
        "stage": name,
        "in": list(before.spatial_shape),
        "out": list(after.spatial_shape),
    }
    if isinstance(stage, (Resize, Resample)):
        return {**record, "op": "resize"}
    if isinstance(stage, FitDepth):
        return {**record, "op": "resize" if stage.method == "resample" else "crop_or_pad"}
    if isinstance(stage, CropOrPad):
        return {**record, "op": "crop_or_pad"}
    if isinstance(stage, CropForeground):
        start = [int(s) for s in after.meta["crop_start"]]
        return {**record, "op": "crop", "start": start}
    raise RadpipeError(
        f"Preprocessing stage {name!r} ({type(stage).__name__}) changes the geometry in a way "
        "radpipe cannot undo, so predicted masks could not be placed on the source pixels; "
        "use resize, resample, crop_or_pad, crop_foreground or fit_depth."
    )


def invert(
    array: np.ndarray,
    records: Sequence[dict[str, Any]],
    fill: Sequence[float] | float = 0,
    order: int = 0,
) -> np.ndarray:
    """Undo ``records`` (from :func:`traced`) on a model-space ``array``.

    Parameters
    ----------
    array
        ``(*spatial)`` class indices, or ``(K, *spatial)`` per-class values, in the space of
        the last record's ``out`` shape.
    records
        ``meta["spatial"]`` of the traced sample.
    fill
        The value for pixels the preprocessing cut away: a scalar, or one per leading
        channel (probabilities: ``[1, 0, ..., 0]``, i.e. background).
    order
        Interpolation of the resizes: 0 nearest neighbour (class indices must use it), 1
        linear, for per-class probabilities whose argmax is taken afterwards (smooth
        boundaries instead of the model grid's staircase, as nnU-Net resamples its softmax).

    Returns
    -------
    numpy.ndarray
        Same dtype and leading axes, spatial shape the first record's ``in`` shape.
    """
    out = np.asarray(array)
    for rec in reversed(records):
        n = len(rec["out"])
        if tuple(out.shape[-n:]) != tuple(rec["out"]):
            raise RadpipeError(
                f"Stage {rec['stage']!r} produced {tuple(rec['out'])}, the prediction has "
                f"{tuple(out.shape[-n:])}."
            )
        shape, start = rec["in"], rec.get("start")
        if rec["op"] == "resize":
            out = resize(out, shape, order=order)
        elif rec["op"] == "crop_or_pad":
            out = _per_channel(out, n, fill, partial(_centred, shape=shape))
        else:
            out = _per_channel(out, n, fill, partial(_uncrop, shape=shape, start=start))
    return out


def on_source_pixels(
    probs: np.ndarray, pipeline: Pipeline | None, raw: Sample, order: int = 0
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Per-class maps ``(K, *spatial)`` moved from model space back onto the pixels of
    ``raw`` (the item as loaded), undoing every geometric stage of ``pipeline`` as it was
    applied to ``raw`` (resizes with interpolation ``order``); what a crop cut away is
    background. Returns the maps and the records undone (:func:`traced`).

    Raises
    ------
    RadpipeError
        A geometric stage whose effect cannot be recorded (and so not undone).
    """
    records = traced(pipeline, raw).meta["spatial"]
    fill = [1.0] + [0.0] * (probs.shape[0] - 1)
    return invert(probs, records, fill=fill, order=order), records


def image_region(records: Sequence[dict[str, Any]]) -> np.ndarray | None:
    """Which pixels of the model grid hold the image, by replaying ``records`` (from
    :func:`traced`) on an image of ones: ``(*spatial)`` bool in the last record's ``out``
    shape, False where a ``crop_or_pad`` or ``fit_depth`` padded; ``None`` when nothing was
    padded (every pixel holds the image).

    Examples
    --------
    >>> rec = {"stage": "fit", "op": "crop_or_pad", "in": [2, 1], "out": [4, 1]}
    >>> image_region([rec])[:, 0].tolist()
    [False, True, True, False]
    """
    if not any(r["op"] == "crop_or_pad" for r in records):
        return None
    region = np.ones(records[0]["in"], dtype=np.uint8)
    for rec in records:
        out = [int(s) for s in rec["out"]]
        if rec["op"] == "resize":
            region = resize(region, out, order=0)
        elif rec["op"] == "crop_or_pad":
            region = crop_or_pad(region, out, 0)
        else:
            k = len(rec["start"])
            window: tuple[Any, ...] = (
                Ellipsis,
                *[slice(int(a), int(a) + s) for a, s in zip(rec["start"], out[-k:])],
            )
            region = region[window]
    return None if region.all() else region.astype(bool)


def _centred(array: np.ndarray, value: float, *, shape: Sequence[int]) -> np.ndarray:
    return crop_or_pad(array, shape, value)


def _per_channel(array: np.ndarray, n: int, fill: Sequence[float] | float, fn: Any) -> np.ndarray:
    """``fn(array, fill)``, or per leading channel with its own fill value."""
    if np.isscalar(fill) or array.ndim == n:
        value = fill if np.isscalar(fill) else 0
        return np.asarray(fn(array, value))
    fills = list(fill)  # type: ignore[arg-type]
    return np.stack([fn(channel, fills[k]) for k, channel in enumerate(array)])


def _uncrop(
    array: np.ndarray, value: float, *, shape: Sequence[int], start: Sequence[int]
) -> np.ndarray:
    """Place ``array`` at ``start`` in an array of spatial ``shape`` filled with ``value``."""
    n = len(shape)
    lead = array.shape[: array.ndim - n]
    out = np.full((*lead, *shape), value, dtype=array.dtype)
    k = len(start)  # crop_foreground's box covers the last len(start) axes
    window = [slice(int(a), int(a) + int(s)) for a, s in zip(start, array.shape[-k:])]
    out[(Ellipsis, *window)] = array  # type: ignore[index]
    return out
