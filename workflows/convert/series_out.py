"""One assembled volume of ``convert --per series`` as files: NIfTI or NPY, and its sidecars.

- A diffusion-weighted volume gets ``<name>.bval`` and ``<name>.bvec``
  (:mod:`pipeline.dicom.diffusion`), NPY as NIfTI: an NPY had none, so which volume was
  b = 0 and which direction each held was lost.
- An NPY of time points (``(T, D, H, W)``, or a cine's ``(T, H, W)``) gets ``<name>.json``,
  ``{"axes": ["time", "slice", "row", "column"], "time_step_s": 3.0}``: the step a NIfTI
  keeps as its 4th zoom (``pixdim[4]``), which an NPY, having no header, lost.

- A NIfTI volume gets ``<name>.json``, dcm2niix's BIDS-style sidecar without identifiers
  (:mod:`pipeline.dicom.bids_sidecar`; ``convert --no-json``: none).

Sidecars an earlier conversion wrote beside the same output, which this volume no longer
has (a series no longer diffusion-weighted, or converted with ``--no-json``), are removed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.dicom.bids_sidecar import KEYS, ge_slice_timing, header_fields, slice_timing
from pipeline.dicom.diffusion import sidecar_paths, write_sidecars
from pipeline.dicom.groups import VOLUME_PLANE_NOTE
from pipeline.dicom.stack_keys import STACK_KEYS, shared_component
from pipeline.io_atomic import atomic_write_text
from pipeline.version import radpipe_version
from pipeline.writers import write_nifti, write_npy

__all__ = [
    "BidsSource", "bids_source", "one_slice_note", "remove_sidecars", "sidecars", "time_axes",
    "volume_component", "volume_lossy", "write_volume",
]  # fmt: skip


@dataclass(frozen=True)
class BidsSource:
    """Where a NIfTI volume's JSON sidecar is read from: the file (``root``/``rel``) and frame
    of its first slice, and its slices' acquisition times (s, in slice order; ``None`` when
    its slices are not the acquired ones: resampled along the normal) and TriggerTimes (ms,
    likewise: a GE fMRI's slice times, :func:`~pipeline.dicom.bids_sidecar.ge_slice_timing`)."""

    root: str
    rel: str
    frame: int
    times: tuple[float | None, ...] | None
    triggers: tuple[Any, ...] | None = None


def bids_source(root: str, plan: Any, v: int) -> BidsSource:
    """The :class:`BidsSource` of volume ``v`` of ``plan`` (a SeriesPlan) of files under
    ``root``."""
    volume = plan.volumes[v]
    first = plan.frames[volume.frames[0][0]]
    times = None if volume.grid is not None else tuple(plan.frames[k].time
                                                       for k in volume.frames[0])  # fmt: skip
    trigger = STACK_KEYS.index("TriggerTime")
    triggers = None if times is None else tuple(plan.frames[k].stack_values[trigger]
                                                for k in volume.frames[0])  # fmt: skip
    return BidsSource(root, first.source, first.frame, times, triggers)


def sidecars(output: Path) -> list[Path]:
    """Every sidecar radpipe may write beside ``output``: ``.bval``, ``.bvec`` and ``.json``."""
    return [*sidecar_paths(output), _json_path(output)]


def _json_path(output: Path) -> Path:
    """``<name>.json`` beside ``<name>.npy``, ``<name>.nii`` or ``<name>.nii.gz``."""
    name = output.name
    for suffix in (".nii.gz", ".nii", ".npy"):
        if name.endswith(suffix):
            return output.with_name(name[: -len(suffix)] + ".json")
    return output.with_suffix(".json")


def remove_sidecars(output: Path) -> None:
    """Delete every sidecar of ``output`` (an output removed), unless a volume of the same
    name is there: a ``<name>.nii`` written in place of ``<name>.nii.gz`` (``--no-gzip``) has
    the same ``<name>.json``, ``.bval`` and ``.bvec``, which went with the old file's removal
    (after the new one was written)."""
    stem = _json_path(output).name.removesuffix(".json")
    if any(output.with_name(stem + suffix).exists() for suffix in (".nii", ".nii.gz", ".npy")):
        return
    for path in sidecars(output):
        path.unlink(missing_ok=True)


def write_volume(
    target: Path, volume: Any, fmt: str, bids: BidsSource | None = None,
    notes: list[str] | None = None,
) -> list[Path]:  # fmt: skip
    """Write ``volume`` (a :class:`~pipeline.dicom.volume.SeriesVolume`) to ``target`` as
    NIfTI (``fmt == "nifti"``) or NPY, with its sidecars (see the module; a NIfTI's JSON
    from ``bids``, none without); returns the sidecars written. What the JSON says of a
    header value it changed or left out goes into ``notes``."""
    if fmt == "nifti":
        write_nifti(target, volume.image, volume.affine_ras,
                    repetition_time=volume.repetition_time, sheared=volume.sheared,
                    spacing=volume.spacing, rgb=volume.rgb, pixel_mm=volume.pixel_mm,
                    patient=VOLUME_PLANE_NOTE not in volume.problems)  # fmt: skip
    else:
        write_npy(target, volume.image)
    written: list[Path] = []
    if volume.diffusion and volume.affine_ras is not None:  # dcm2niix's sidecars
        written += write_sidecars(target, volume.diffusion, volume.affine_ras)
    timed = time_axes(volume) if fmt != "nifti" else None
    if timed is not None:
        axes, step_ms = timed
        path = _json_path(target)
        atomic_write_text(path, json.dumps({"axes": axes, "time_step_s": step_ms / 1000.0}))
        written.append(path)
    if (
        fmt == "nifti"
        and bids is not None
        and (found := bids_json(volume, bids, notes)) is not None
    ):
        atomic_write_text(_json_path(target), json.dumps(found, indent=2) + "\n")
        written.append(_json_path(target))
    for stale in set(sidecars(target)) - set(written):  # an earlier conversion's
        stale.unlink(missing_ok=True)
    return written


def bids_json(
    volume: Any, bids: BidsSource, notes: list[str] | None = None
) -> dict[str, Any] | None:
    """The JSON sidecar of a NIfTI ``volume`` (:mod:`pipeline.dicom.bids_sidecar`), or
    ``None`` when its first file's header cannot be read again (it was read to build it)."""
    from pipeline.dicom.groups import attribute

    path = os.path.join(bids.root, bids.rel)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    ds = _header(path, bids.rel, stat.st_mtime_ns, stat.st_size)
    if not hasattr(ds, "get"):  # a Problem
        return None
    found = header_fields(ds, bids.frame, notes)
    step = _time_step(volume)
    if step is not None:  # written whatever the header holds: a cine's FrameTime was lost
        # BIDS: a 4-D NIfTI's RepetitionTime is its 4th zoom, the time between volumes
        # (the validator's REPETITION_TIME_MISMATCH); the header's TR (a DCE's 4.2 ms for
        # volumes 10 s apart) is the excitations', RepetitionTimeExcitation (as dcm2niix #560)
        if abs(step - found.get("RepetitionTime", step)) > 1e-6:
            found["RepetitionTimeExcitation"] = found["RepetitionTime"]
        found["RepetitionTime"] = step
    if volume.affine_ras is not None and not volume.sheared:
        slices = volume.image.shape[-4 if volume.rgb else -3]
        if slices > 1:  # the NIfTI's third zoom: the step between its slices as written
            found["SpacingBetweenSlices"] = round(float(volume.spacing[0]), 6)
        stamped = ds.get("AcquisitionTime") or attribute(
            ds, "FrameContentSequence", "FrameAcquisitionDateTime", bids.frame
        )  # ContentTime is when the image was made, not acquired: no slice timing from it
        two_d = found.get("Modality") == "MR" and found.get("MRAcquisitionType") != "3D"
        timing = None
        if bids.times and len(bids.times) == slices and stamped and two_d:
            timing = slice_timing(bids.times, found.get("RepetitionTime"))
        if timing is None and two_d and step is not None and bids.triggers:
            timing = ge_slice_timing(found.get("Manufacturer", ""), bids.triggers,
                                     found.get("RepetitionTime"))  # fmt: skip
        if timing is not None:
            found["SliceTiming"] = timing
    found.update(ConversionSoftware="radpipe", ConversionSoftwareVersion=radpipe_version())
    return {key: found[key] for key in KEYS if key in found}


def _time_step(volume: Any) -> float | None:
    """A NIfTI of time points' 4th zoom (``pixdim[4]``) in s, as :func:`write_nifti` writes
    it; ``None`` for a 3-D volume or one without a step."""
    if volume.image.ndim - volume.rgb != 4 or not volume.repetition_time:
        return None
    return round(float(volume.repetition_time) / 1000.0, 9) + 0.0


@lru_cache(maxsize=2)  # a series' volumes (300 time points of one Enhanced file): read once
def _header(path: str, rel: str, mtime_ns: int, size: int) -> Any:
    """The header of ``path`` (pixels not read), or a Problem; keyed by its stat too, so a
    file rewritten since is read again."""
    from pipeline.dicom.files import read_dataset

    return read_dataset(path, rel)


def time_axes(volume: Any) -> tuple[list[str], float] | None:
    """The axes of an NPY of time points and its time step in ms, as NIfTI's 4th zoom has
    it: a ``(T, D, H, W)`` volume's step (its RepetitionTime, or the time points' median
    interval), a cine ``(T, H, W)``'s frame time; ``None`` for other volumes, or without a
    step above 0."""
    shape = volume.image.shape[: volume.image.ndim - volume.rgb]  # RGB: samples last
    rgb = ["sample"] if volume.rgb else []
    if len(shape) == 4 and volume.repetition_time and volume.repetition_time > 0:
        return ["time", "slice", "row", "column", *rgb], float(volume.repetition_time)
    if len(shape) == 3 and volume.frame_time and volume.frame_time > 0:
        return ["time", "row", "column", *rgb], float(volume.frame_time)
    return None


def volume_lossy(plan: Any, volume: Any) -> str:
    """The lossy compression histories of a volume's frames (``FrameRef.lossy``), each once,
    for the manifest's ``lossy`` cell; ``""`` when none went through lossy compression.

    When they differ (some frames lossy, others not, or two histories) each is said with how
    many of the volume's frames it holds for: listed alone, 2 JPEG frames among 120 read as
    every frame's.

    Examples
    --------
    >>> from types import SimpleNamespace as N
    >>> plan = N(frames=[N(lossy=""), N(lossy="stored as JPEG"), N(lossy="")])
    >>> volume_lossy(plan, N(frames=[[0, 1, 2]]))
    '1 of 3 frames: stored as JPEG'
    """
    histories = [plan.frames[k].lossy for stack in volume.frames for k in stack]
    counts = Counter(histories)
    said = [h for h in counts if h]
    if len(counts) == 1:
        return "; ".join(said)
    return "; ".join(f"{counts[h]} of {len(histories)} frames: {h}" for h in said)


def volume_component(plan: Any, volume: Any) -> str:
    """The complex component of a volume's frames (``MAGNITUDE``, ``PHASE``, ...), for the
    manifest's ``component`` cell; ``""`` when they name none (or several)."""
    return shared_component(plan.frames[k] for stack in volume.frames for k in stack)


def one_slice_note(plan: Any, volume: Any) -> str:
    """What a volume of one slice says when its header gives no thickness (placed: written as
    1 mm, :func:`pipeline.dicom.stack.plan_positions`) or, unplaced (a radiograph), no pixel
    spacing (written as 1 x 1 x 1, which ``spacing`` would claim as mm); ``""`` otherwise."""
    first = plan.frames[volume.frames[0][0]]
    if volume.affine is None and volume.num_slices == 1 and first.pixel_spacing is None:
        return "no pixel spacing: one image written with spacing 1 x 1 x 1 (pixels, not mm)"
    if volume.affine is None or volume.num_slices != 1 or first.slice_step:
        return ""
    return (
        "one slice without SpacingBetweenSlices or SliceThickness: its thickness is written as 1 mm"
    )
