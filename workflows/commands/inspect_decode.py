"""``radpipe inspect --decode``: every frame decoded, as ``convert`` decodes it.

``inspect`` reads headers only, so damaged compressed pixel data (a JPEG stream that does not
decode, a JPEG-LS frame cut short) passed it with exit 0 and failed only at conversion. With
``--decode`` each usable file goes through ``convert``'s own worker (:func:`~workflows.
convert.tasks.run_task`, NPY without a window, into a temporary folder removed as it goes), so
a file that fails is listed with ``convert``'s words and its series is marked ``incomplete``
as for a file whose header fails; what decoding found in a usable file (a frame without its
end marker, a decoder warning) is noted on it as ``convert``'s ``problems`` column says it.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

from pipeline.dicom.assemble import GeometryPolicy
from pipeline.dicom.failed_slices import instance_place, repeated_slices
from pipeline.dicom.files import Problem
from pipeline.dicom.index import DicomIndex, sort_series
from pipeline.dicom.split_uids import split_series_notes
from workflows.convert.pool import map_tasks
from workflows.convert.tasks import ConvertOptions, ConvertTask, TaskResult, run_task

__all__ = ["decode_every_file"]


def decode_every_file(
    index: DicomIndex, *, workers: int = 1, max_pixels: int = 2**28,
    policy: GeometryPolicy | None = None,
) -> int:  # fmt: skip
    """Decode every frame of every image of ``index`` as ``convert`` does; returns the number
    of files that failed.

    A failure joins ``index.problems`` (kind ``error``, the reason ``convert`` gives in
    ``errors.csv``, the file's series marked ``incomplete``); the decoding's notes join the
    instance's notes. Each file is read in full: slower than ``inspect`` alone.
    """
    options = ConvertOptions(format="npy", window="none", per="instance", workers=workers,
                             max_pixels=max_pixels).resolved()  # fmt: skip
    failed = 0
    with tempfile.TemporaryDirectory(prefix="radpipe-decode-") as out:
        tasks = [ConvertTask(str(index.root), out, (inst.path,))
                 for s in index.series for inst in s.instances]  # fmt: skip
        places = [(si, k) for si, s in enumerate(index.series) for k in range(len(s.instances))]
        results = map_tasks(partial(run_task, options=options), tasks, workers, on_crash=_crashed)
        for (si, k), res in zip(places, results):
            for row in res.rows:  # only the words are wanted, never the arrays
                (Path(out) / row["output"]).unlink(missing_ok=True)
            series = index.series[si]
            inst = series.instances[k]
            if res.error is not None:
                failed += 1
                key = "" if res.skipped else series.key  # its series then lacks it
                place = instance_place(inst) if key else ()  # a repeat is left out
                index.problems.append(Problem(inst.path, res.error, res.skipped, key, place))
                continue
            new = tuple(p for p in res.problems if p not in inst.notes)
            if new:
                series.instances[k] = replace(inst, notes=(*inst.notes, *new))
    _without_left_out(index, policy)
    index.mark_incomplete()
    return failed


def _without_left_out(index: DicomIndex, policy: GeometryPolicy | None) -> None:
    """Assemble again, as ``convert`` will, each series without the files it leaves out (a
    repeat whose pixels fail: :func:`~pipeline.dicom.failed_slices.repeated_slices`), with
    the note of a series split across SeriesInstanceUIDs that it had (it was dropped)."""
    failed = index.failed_by_series()
    split = split_series_notes((s.uid, list(s.instances)) for s in index.series) if failed else {}
    for si, series in enumerate(index.series):
        repeats, gap = repeated_slices(failed.get(series.key, []), series.instances)
        if repeats and gap is None:
            kept = [i for i in series.instances if i.path not in repeats]
            index.series[si] = sort_series(series.uid, kept, policy)
            index.series[si].problems += [split[series.uid]] if series.uid in split else []


def _crashed(task: ConvertTask, reason: str) -> TaskResult:
    """A file whose worker process died decoding it: a failure, as ``convert`` lists it."""
    return TaskResult(task.task_id, error=reason, error_source=task.task_id)
