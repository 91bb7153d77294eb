"""One assembled volume of ``convert --per series`` as files: NIfTI or NPY, and its sidecars.

- A diffusion-weighted volume gets ``<name>.bval`` and ``<name>.bvec``
  (:mod:`pipeline.dicom.diffusion`), NPY as NIfTI: an NPY had none, so which volume was
  b = 0 and which direction each held was lost.
- An NPY of time points (``(T, D, H, W)``, or a cine's ``(T, H, W)``) gets ``<name>.json``,
  ``{"axes": ["time", "slice", "row", "column"], "time_step_s": 3.0}``: the step a NIfTI
  keeps as its 4th zoom (``pixdim[4]``), which an NPY, having no header, lost.

Sidecars an earlier conversion wrote beside the same output, which this volume no longer
has (a series no longer diffusion-weighted), are removed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.dicom.diffusion import sidecar_paths, write_sidecars
from pipeline.dicom.groups import VOLUME_PLANE_NOTE
from pipeline.dicom.stack_keys import shared_component
from pipeline.io_atomic import atomic_write_text
from pipeline.writers import write_nifti, write_npy

__all__ = [
    "remove_sidecars", "sidecars", "time_axes", "volume_component", "volume_lossy", "write_volume",
]  # fmt: skip


def sidecars(output: Path) -> list[Path]:
    """Every sidecar radpipe may write beside ``output``: ``.bval``, ``.bvec`` (NIfTI, NPY)
    and ``.json`` (NPY)."""
    found = sidecar_paths(output)
    if output.name.endswith(".npy"):
        found.append(output.with_suffix(".json"))
    return found


def remove_sidecars(output: Path) -> None:
    """Delete every sidecar of ``output`` (an output removed)."""
    for path in sidecars(output):
        path.unlink(missing_ok=True)


def write_volume(target: Path, volume: Any, fmt: str) -> list[Path]:
    """Write ``volume`` (a :class:`~pipeline.dicom.volume.SeriesVolume`) to ``target`` as
    NIfTI (``fmt == "nifti"``) or NPY, with its sidecars (see the module); returns the
    sidecars written."""
    if fmt == "nifti":
        write_nifti(target, volume.image, volume.affine_ras,
                    repetition_time=volume.repetition_time, sheared=volume.sheared,
                    spacing=volume.spacing, rgb=volume.rgb,
                    patient=VOLUME_PLANE_NOTE not in volume.problems)  # fmt: skip
    else:
        write_npy(target, volume.image)
    written: list[Path] = []
    if volume.diffusion and volume.affine_ras is not None:  # dcm2niix's sidecars
        written += write_sidecars(target, volume.diffusion, volume.affine_ras)
    timed = time_axes(volume) if fmt != "nifti" else None
    if timed is not None:
        axes, step_ms = timed
        path = target.with_suffix(".json")
        atomic_write_text(path, json.dumps({"axes": axes, "time_step_s": step_ms / 1000.0}))
        written.append(path)
    for stale in set(sidecars(target)) - set(written):  # an earlier conversion's
        stale.unlink(missing_ok=True)
    return written


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
