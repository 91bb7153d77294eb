"""The worker side of batch conversion: picklable tasks, :func:`run_task`, :func:`map_tasks`.

A task names files relative to a source root; :func:`run_task` reads each file once,
converts it, writes the outputs atomically in the worker and returns only manifest rows and
the file's header facts (never pixel arrays), or an error record.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.dicom import plain
from pipeline.dicom import read as dicom_read  # looked up per call: tests patch it
from pipeline.dicom.assemble import GeometryPolicy
from pipeline.dicom.colour_out import png16_colour_note
from pipeline.dicom.decode import DEFAULT_MAX_PIXELS
from pipeline.dicom.files import FATAL, captured_warnings, escape_name
from pipeline.dicom.frames import FrameRef
from pipeline.dicom.frozen import made
from pipeline.dicom.header import instance_facts, is_clean
from pipeline.dicom.index import Instance, Problem, Series, instance_from, read_dataset
from pipeline.dicom.notes import add_notes, join_notes
from pipeline.dicom.stack_keys import shared_component
from pipeline.dicom.volume_labels import volume_labels
from pipeline.errors import ConfigError, DicomError
from pipeline.keys import hash_key, hash_keys
from pipeline.ops.voi import parse_window
from pipeline.writers import SUFFIXES, write_npy, write_png
from workflows.convert.pool import _tune_malloc, map_tasks
from workflows.convert.reasons import strict_reason
from workflows.convert.series_retry import run_without_failed
from workflows.convert.sources import SOURCE_COLUMNS, frame_slices
from workflows.convert.written import in_the_way, stops_the_batch
from workflows.convert.written import remove_written as _remove

FORMATS = ("png", "png16", "npy", "nifti")


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert. ``window=None`` means ``header`` for PNG and ``none`` for NPY/NIfTI;
    ``per=None`` means ``series`` for NIfTI and ``instance`` otherwise."""

    format: str = "png"
    window: str | None = None
    per: str | None = None
    workers: int = 1
    max_pixels: int = DEFAULT_MAX_PIXELS
    png_compression: int = 1
    resume: bool = True
    strict: bool = False
    tilt: str = "resample"
    uneven: str = "resample"
    split_4d: bool = False
    gzip: bool = True
    json: bool = True  # NIfTI: a BIDS-style <name>.json beside each volume

    def policy(self) -> GeometryPolicy:
        """The geometry policy of series outputs (see :class:`GeometryPolicy`)."""
        return GeometryPolicy(tilt=self.tilt, uneven=self.uneven, split_4d=self.split_4d)

    def resolved(self) -> ConvertOptions:
        """A copy with defaults filled in; raises :class:`ConfigError` on a bad combination."""
        from pipeline.ops.voi import parse_window

        if self.format not in FORMATS:
            raise ConfigError(f"format must be one of {', '.join(FORMATS)}; got {self.format!r}.")
        per = self.per or ("series" if self.format == "nifti" else "instance")
        if per not in ("instance", "series"):
            raise ConfigError(f"per must be 'instance' or 'series'; got {per!r}.")
        if per == "series" and self.format.startswith("png"):
            raise ConfigError("--per series needs --format npy or nifti (PNG is 2-D).")
        if per == "instance" and self.format == "nifti":
            raise ConfigError("--format nifti writes one volume per series: use --per series.")
        window = self.window or ("header" if self.format.startswith("png") else "none")
        try:
            parse_window(window)
        except ValueError as err:
            raise ConfigError(f"window: {err}") from None
        try:
            self.policy()
        except ValueError as err:
            raise ConfigError(str(err)) from None
        if self.workers < 1 or self.max_pixels < 1 or not 0 <= self.png_compression <= 9:
            raise ConfigError("workers and max_pixels must be >= 1, png_compression in 0..9.")
        return replace(self, per=per, window=window)


@dataclass(frozen=True)
class ConvertTask:
    """One unit of work: a file (per instance) or the ordered files of a series.

    Per-series tasks carry the series' keys; per-instance tasks learn them from the header.
    ``known``: ``(source, header digest, frames)`` from the index, taken by the worker for a
    file whose header is the same (:func:`pipeline.dicom.volume.load_series`).
    """

    src_root: str
    out_root: str
    sources: tuple[str, ...]
    series_key: str = ""
    patient_key: str = ""
    study_key: str = ""
    modality: str = ""
    stack: int = -1
    instance_key: str = ""
    known: tuple[tuple[str, str, tuple[FrameRef, ...]], ...] = ()
    left_out: tuple[str, ...] = ()  # the series' failed files (stable_stacks)

    @property
    def task_id(self) -> str:
        return self.sources[0]


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back: manifest rows (per-instance rows carry the frame's rank
    along the normal within its file as ``slice_index``), the header facts, or an error.

    ``error_source`` names the file at fault when a series failed (``task_id`` is its first
    file); ``skipped`` marks a file that is not an image (not a failure); ``problems`` are
    what was recovered or looks damaged (the manifest's ``problems`` column); ``seconds``
    is the time the task took in its worker; ``sources`` are a series' ``sources.csv`` rows
    (every file and the output slices it became); ``dropped`` lists ``(source, reason)`` of
    the files of a series that are in no output (exact duplicates: skipped). Everything is plain
    data, so a result always pickles back from a worker process.
    """

    task_id: str
    rows: tuple[dict[str, str], ...] = ()
    error: str | None = None
    instance: Instance | None = None
    problems: tuple[str, ...] = ()
    error_source: str = ""
    skipped: bool = False
    seconds: float = 0.0
    dropped: tuple[tuple[str, str], ...] = ()
    sources: tuple[dict[str, str], ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # a series' files left out (series_retry)


def series_output(
    patient_key: str, series_key: str, fmt: str, stack: int = -1, gzip: bool = True
) -> str:
    """``<patient>/<series>.nii.gz``, or ``<patient>/<series>_s<stack>.nii.gz`` for one of
    several co-located stacks (time points, diffusion directions); ``.nii`` without gzip."""
    from pipeline.writers import SUFFIXES

    name = series_key if stack < 0 else f"{series_key}_s{stack:02d}"
    suffix = SUFFIXES["nii" if fmt == "nifti" and not gzip else fmt]
    return f"{patient_key}/{name}{suffix}"


def instance_output(patient_key: str, series_key: str, instance_key: str, frame: int,
                    fmt: str) -> str:  # fmt: skip
    return f"{patient_key}/{series_key}/{instance_key}_{frame:03d}{SUFFIXES[fmt]}"


def series_tasks(series: Series, src: str, out: str) -> list[ConvertTask]:
    """One task per series: its files in index order (the worker assembles the volumes)."""
    first, files = series.first, series.instances
    task = ConvertTask(
        src_root=src,
        out_root=out,
        sources=tuple(i.path for i in files),
        series_key=series.key,
        patient_key=hash_key(first.patient_id),
        study_key=hash_key(first.study_uid),
        modality=first.modality,
        known=tuple((i.path, i.header_digest, i.frame_refs) for i in files if i.header_digest),
    )
    return [task]


def run_task(task: ConvertTask, options: ConvertOptions) -> TaskResult:
    """Convert one task and write its outputs atomically; never raises for bad input.

    Every exception a file can raise is caught here, including ``BaseException`` panics of
    the Rust/C decoders, and turned into a plain string, so the result pickles back from a pool
    worker. A task that fails leaves no outputs; warnings are reported (sanitized) as problems.
    """
    start = time.perf_counter()
    written: list[str | Path] = []
    try:
        with captured_warnings() as caught:
            if options.per == "series":  # without a file whose pixels fail, when safe
                result = TaskResult(task.task_id, **run_without_failed(task, options, written,
                                                                       _run_series))  # fmt: skip
            else:
                rows, instance, problems = _run_instance(task, options, written)
                result = TaskResult(task.task_id, tuple(rows), instance=instance,
                                    problems=problems)  # fmt: skip
        if caught:
            result = _with_problems(result, caught, options, written)
    except FATAL:
        _remove(written)
        raise
    except BaseException as err:  # one bad file must not stop the batch
        _remove(written)
        if stops_the_batch(err, task.out_root):  # a full disk: so would every later file
            raise
        result = _failure(task, err)
    return made(TaskResult, {**result.__dict__, "seconds": time.perf_counter() - start})


def _failure(task: ConvertTask, err: BaseException) -> TaskResult:
    from pipeline.dicom.files import sanitize
    from pipeline.dicom.reasons import unexpected_failure

    if isinstance(err, DicomError):
        source = err.path if err.path in task.sources else task.task_id
        skipped = isinstance(err, NotAnImage)
        return TaskResult(task.task_id, error=err.reason, error_source=source, skipped=skipped)
    way = in_the_way(err, task.out_root)  # a folder at an output's path: this file fails
    reason = way or unexpected_failure(err, sanitize(str(err)))  # words, not the class name
    return TaskResult(task.task_id, error=reason, error_source=task.task_id)


def _with_problems(
    result: TaskResult, caught: list[str], options: ConvertOptions, written: list[str | Path]
) -> TaskResult:
    problems = tuple(dict.fromkeys([*result.problems, *caught]))
    if options.strict and problems:
        _remove(written)
        return TaskResult(result.task_id, error=strict_reason(problems),
                          error_source=result.task_id)  # fmt: skip
    # each row keeps its own problems (a volume's: its tilt or spacing), the warnings after
    rows = tuple({**r, "problems": add_notes(r.get("problems", ""), problems)} for r in result.rows)
    return replace(result, rows=rows, problems=problems)


class NotAnImage(DicomError):
    """A file that is not an image (a DICOMDIR, a report): skipped, not a failure."""


def _join(values: Iterable[float]) -> str:
    return "x".join(f"{float(v):g}" for v in values)


def _run_instance(
    task: ConvertTask, options: ConvertOptions, written: list[str | Path]
) -> tuple[list[dict[str, str]], Instance, tuple[str, ...]]:
    rel = task.sources[0]
    inst, image = _read_instance(os.path.join(task.src_root, rel), rel, options.max_pixels)
    window = _window(options.window or "none")  # a frozen WindowSpec: one a run
    preset = dicom_read.window_note(window, image, inst.modality)  # an HU preset, a colour image's
    rgb8 = png16_colour_note(image) if options.format == "png16" else None
    problems = tuple(dict.fromkeys([*inst.notes, *image.problems, *filter(None, [preset, rgb8])]))
    if options.strict and problems:
        raise DicomError(rel, strict_reason(problems))
    png16 = "uint8" if image.is_color else "uint16"  # PNG writers here take 8-bit RGB only
    out_type = {"png": "uint8", "png16": png16}.get(options.format, "float32")
    rank = {f: r for r, f in enumerate(dicom_read.frame_order(image))}
    unit = "" if image.is_color or out_type != "float32" else image.unit  # modality values
    *keys, instance_key = hash_keys([inst.patient_id, inst.study_uid, inst.series_uid,
                                     "" if task.instance_key else inst.sop_uid])  # fmt: skip
    instance_key = task.instance_key or instance_key
    rows = []
    for frame in range(len(image.frames)):
        out = instance_output(keys[0], keys[2], instance_key, frame, options.format)
        array, used = dicom_read.render(image, frame, window, out_type)  # type: ignore[arg-type]
        written.append(target := os.path.join(task.out_root, out))
        _write(target, array, options)
        spacing = image.frames[frame].pixel_spacing
        part = shared_component(r for r in inst.frame_refs if r.frame == frame)  # MAGNITUDE
        values = [out, escape_name(rel), *keys, instance_key, frame, rank[frame], inst.frames,
                  inst.modality, _join(array.shape), "" if spacing is None else _join(spacing),
                  used, options.format, "", part, "", "", unit if used == "none" else "",
                  image.lossy, image.padding_cell(frame, array), join_notes(problems)]  # fmt: skip
        rows.append(dict(zip(MANIFEST_COLUMNS, map(str, values))))
    return rows, inst, problems


_window = lru_cache(maxsize=16)(parse_window)


def _read_instance(path: str, rel: str, max_pixels: int) -> tuple[Instance, Any]:
    """The header facts and the decoded image of one file (plain files read fast).

    Raises :class:`NotAnImage` or :class:`DicomError` naming the file.
    """

    def work(ds: Any) -> tuple[Instance | Problem, Any]:
        found = instance_facts(ds, rel, ds.file_size, DEFAULT_MAX_PIXELS)  # checks the header
        checked = is_clean(found)  # and found nothing: not checked twice
        return found, dicom_read.image_from_dataset(
            ds, rel, max_pixels=max_pixels, header_checked=checked
        )

    fast = plain.try_plain(path, work, lambda r: is_clean(r[0]) and not r[1].problems, pixels=True)
    if fast is not None:
        return fast  # type: ignore[return-value]
    ds = read_dataset(path, rel, pixels=True, max_bytes=8 * max_pixels + 2**24)
    inst = ds if isinstance(ds, Problem) else instance_from(ds, rel, os.stat(path).st_size)
    if isinstance(inst, Problem):
        raise (NotAnImage if inst.skipped else DicomError)(rel, inst.reason)
    return inst, dicom_read.image_from_dataset(ds, rel, max_pixels=max_pixels)


def _write(target: str, array: Any, options: ConvertOptions) -> None:
    if options.format == "npy":
        write_npy(target, array)
    else:
        write_png(target, array, compression=options.png_compression)


def _run_series(
    task: ConvertTask, options: ConvertOptions, written: list[str | Path]
) -> tuple[list[dict[str, str]], list[dict[str, str]], tuple[str, ...]]:
    """Assemble the series (:func:`pipeline.dicom.volume.read_volumes`), write an output per
    volume (``<series>``, or ``<series>_sNN`` of several). Returns the manifest rows (one per
    volume, ``source`` its first file in slice order), the ``sources.csv`` rows (one per file
    and volume), the series' problems. Under ``strict``, one with problems is refused first."""
    from pipeline.dicom.cine import cine_as_time_points
    from pipeline.dicom.files import escape_name
    from pipeline.dicom.volume import read_volumes
    from pipeline.ops.voi import parse_window, preset_note
    from workflows.convert.series_out import (
        bids_source,
        one_slice_note,
        volume_component,
        volume_lossy,
        write_volume,
    )
    from workflows.convert.stable_stacks import stable_stacks

    window = parse_window(options.window or "none")
    plan, volumes = read_volumes(
        task.src_root,
        task.sources,
        window,
        options.policy(),
        max_pixels=options.max_pixels,
        exact_integers=True,  # int16/uint16 volumes built directly: the same values
        known={source: (digest, refs) for source, digest, refs in task.known},
    )
    if plan.refusal:
        at = plan.refusal_source if plan.refusal_source in task.sources else task.task_id
        raise DicomError(at, f"series {task.series_key} refused: {plan.refusal}")
    thin = [one_slice_note(plan, v) for v in plan.volumes]
    said = [*plan.problems, *(p for v in volumes for p in v.problems), *filter(None, thin)]
    own = any(p.startswith("HU preset:") for p in said)  # the files' own units said it
    # each volume's own modality: a series filed with several is split by it (kinds.py)
    kinds = [plan.frames[v.frames[0][0]].modality or task.modality for v in plan.volumes]
    units = [plan.frames[v.frames[0][0]].unit for v in plan.volumes]  # of modality values
    presets = [None if own or v.rgb else preset_note(window, k) for k, v in zip(kinds, volumes)]
    problems = tuple(dict.fromkeys([*said, *filter(None, presets)]))
    if options.strict and problems:
        raise DicomError(task.task_id, strict_reason(problems))
    rows: list[dict[str, str]] = []
    sources: list[dict[str, str]] = []
    sidecar: list[str] = []  # what the volumes' JSON sidecars did to header values
    if options.format == "nifti":  # a cine's frames are time points, its FrameTime the step
        volumes = [cine_as_time_points(v) for v in volumes]
    stacks = stable_stacks(plan, task, options.policy())  # as if no file were left out
    labels = volume_labels(plan.frames, [v.frames for v in plan.volumes])  # EchoTime=20
    for v, volume in enumerate(volumes):
        stack = stacks[v]
        rel = series_output(task.patient_key, task.series_key, options.format, stack,
                            options.gzip)  # fmt: skip
        written.append(Path(task.out_root) / rel)
        bids = bids_source(task.src_root, plan, v) if options.json else None  # NIfTI's JSON
        told: list[str] = []  # what the JSON sidecar did to a header value
        written += write_volume(Path(task.out_root) / rel, volume, options.format, bids, told)
        sidecar += told
        depth = volume.image.shape[-4 if volume.rgb else -3]
        frames = frame_slices(plan, plan.volumes[v])
        values = [rel, escape_name(frames[0][0]), task.patient_key, task.study_key,
                  task.series_key, "", 0, "", depth, kinds[v], _join(volume.image.shape),
                  _join(volume.spacing), volume.window, options.format,
                  "" if stack < 0 else stack, volume_component(plan, plan.volumes[v]), labels[v],
                  f"{volume.spacing[0]:g}" if volume.affine_ras is not None else "",
                  units[v] if volume.window == "none" and not volume.rgb else "",
                  volume_lossy(plan, plan.volumes[v]), volume.padding,
                  join_notes([*volume.problems, thin[v], presets[v], *told])]  # fmt: skip
        rows.append(dict(zip(MANIFEST_COLUMNS, map(str, values))))
        for source, frame, sop_uid, where in frames:
            cells = [escape_name(source), rel, task.patient_key, task.series_key,
                     hash_key(sop_uid), frame, where]  # fmt: skip
            sources.append(dict(zip(SOURCE_COLUMNS, map(str, cells))))
    return rows, sources, tuple(dict.fromkeys([*plan.problems, *filter(None, [*thin, *presets]),
                                               *sidecar]))  # fmt: skip


MANIFEST_COLUMNS = [
    "output", "source", "patient_key", "study_key", "series_key", "instance_key", "frame",
    "slice_index", "num_slices", "modality", "shape", "spacing", "window", "format",
    "volume", "component", "distinct", "slice_spacing", "units", "lossy", "padding", "problems",
]  # fmt: skip


__all__ = ["ConvertOptions", "ConvertTask", "TaskResult", "_tune_malloc", "map_tasks", "run_task"]
