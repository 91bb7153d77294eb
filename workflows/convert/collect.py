"""The collector's side of batch conversion: results into tallies, one row per output.

Every file found ends in exactly one list: ``rows`` (the manifest), ``failures`` or
``not_images`` (``errors.csv``, kinds ``error`` and ``skipped``). Files that share a
SOPInstanceUID are resolved here (:func:`resolve_collisions`) and per-instance rows are
placed in their assembled volumes (:func:`placement`, :func:`placed`), one series at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from pipeline.dicom.files import IMAGES_ADVICE, escape_name, find_files
from pipeline.dicom.notes import MOSAIC_WHOLE, add_notes, join_notes, merge_cells
from pipeline.dicom.shared_uid import (
    SHARED_UID_NOTE,
    duplicate_note,
    file_digest,
    shared_instance_key,
)
from pipeline.words import counted
from workflows.convert.reasons import STRICT_MATE, STRICT_REFUSED, mate_reason, strict_reason
from workflows.convert.store import Store
from workflows.convert.tasks import ConvertTask, TaskResult


class Runner(Protocol):
    """Anything that runs tasks and yields their results (the pool or Dask)."""

    def map(
        self, tasks: Iterable[ConvertTask], total: int | None = None
    ) -> Iterable[TaskResult]: ...


@dataclass
class ConvertResult:
    """Counts and paths of one :func:`convert_folder` call.

    ``index_csv`` is the header index written (``convert_folder(..., index_csv=PATH)``);
    ``changed`` counts the files converted again because they changed since the last run
    converted them (:mod:`workflows.convert.changes`); ``removed`` counts
    outputs of earlier runs that the manifest no longer lists, deleted; ``other_source`` the
    outputs an earlier conversion of another folder left in OUT (kept, not listed).
    """

    tasks: int = 0
    converted: int = 0
    skipped: int = 0
    changed: int = 0
    outputs: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    not_images: list[tuple[str, str]] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    manifest: Path | None = None
    errors: Path | None = None
    seconds: float = 0.0
    index_csv: Path | None = None
    series_problems: dict[str, list[str]] = field(default_factory=dict)  # all its volumes'
    # {series_key: {volume: problems}} of a series whose volumes differ in their problems
    volume_problems: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    series_files: dict[str, str] = field(default_factory=dict)  # a file of each (relative)
    removed: int = 0
    other_source: int = 0
    sidecars_redone: bool = False  # an earlier radpipe's volumes, without sidecars: redone
    columns_redone: list[str] = field(default_factory=list)  # its manifest lacked them

    def why_nothing(self, src: object, errors: object) -> str:
        """Why no image of ``src`` (as shown to the user) was converted (``outputs`` 0)."""
        if not self.failures and not self.not_images:
            return f"No file found in {src} (an empty folder?)."
        if not self.failures:
            n = len(self.not_images)
            return (f"No image in {src}: its {counted(n, 'file')} "
                    f"{'is not an image' if n == 1 else 'are not images'} "
                    f"(reports, plans, DICOMDIR...); see {errors}.")  # fmt: skip
        # one named, with what it is: PNGs given as DICOM say how radpipe reads them
        first, why = next(((f, r) for f, r in self.failures if IMAGES_ADVICE in r),
                          self.failures[0])  # fmt: skip
        return (f"No image in {src} could be converted: {counted(len(self.failures), 'file')} "
                "failed, "
                f"e.g. {first}: {why}; see {errors}.")  # fmt: skip

    @property
    def problem_counts(self) -> dict[str, int]:
        """Series per kind of problem (``"resampled"``, ``"split"``, ``"tilt corrected"``...)."""
        counts: dict[str, int] = {}
        for problems in self.series_problems.values():
            for kind in dict.fromkeys(map(problem_kind, problems)):
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def counts_of(self, geometry: bool) -> dict[str, int]:
        """:attr:`problem_counts` of the series' geometry (``geometry``), or of the rest: the
        files' own problems (recovered header defects, an ignored window, a shared UID)."""
        return {k: n for k, n in self.problem_counts.items() if (k in GEOMETRY_KINDS) == geometry}

    def series_with(self, geometry: bool) -> int:
        """Series with a problem of the geometry (``geometry``), or of their files."""
        return sum(
            any((problem_kind(p) in GEOMETRY_KINDS) == geometry for p in problems)
            for problems in self.series_problems.values()
        )

    @property
    def refused(self) -> int:
        """Series refused (listed in ``errors.csv`` with ``refused:`` in the reason)."""
        # a file refused under --strict, its series not: counted apart
        return sum(" refused: " in r and not r.startswith(STRICT_REFUSED) for _, r in self.failures)

    @property
    def strict_refused(self) -> int:
        """Files refused under ``--strict`` for their problems (``refused under --strict:``)."""
        return sum(r.startswith(STRICT_REFUSED) for _, r in self.failures)

    @property
    def strict_series_mates(self) -> int:
        """Files not converted because their series was refused under ``--strict`` (for a
        problem of another file of it)."""
        return sum(r.startswith(STRICT_MATE) for _, r in self.failures)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def exit_code(self) -> int:
        return 0 if not self.failures else 1


_WHERE = re.compile(r"^(?:(?:frame|volume) \d+: )+")  # which frame or volume, not what
_VALUE = re.compile(r"\s+-?[\d.,]+$")  # a value the kind ends with (BitsStored ... 12)


def problem_kind(problem: str) -> str:
    """What kind a problem is, as the summary counts it: its words before the first colon,
    without the frame or volume it was found in and without a value ending them.

    ``frame 0: the compressed stream has no end marker (EOI/EOC): ...`` is of the kind ``the
    compressed stream has no end marker (EOI/EOC)``, not ``frame 0``; ``stored values use bits
    above BitsStored (0028,0101) 12: ...`` of ``stored values use bits above BitsStored
    (0028,0101)``, which the count after it no longer runs into (``... 12 1``).
    """
    return _VALUE.sub("", _WHERE.sub("", problem).split(":", 1)[0])


#: Kinds of the series' geometry problems (:mod:`pipeline.dicom.assemble`, and as
#: :func:`per_instance` words them); any other problem is a file's own.
GEOMETRY_KINDS = frozenset({
    "resampled", "split", "tilt corrected", "tilt kept", "duplicates dropped",
    "refused", "no geometry", "mixed image sizes", "missing slices", "uneven slice spacing",
    "incomplete", "uneven spacing", "gantry tilt", "mosaic", "duplicates", "4-D time step",
    "missing time points", "slice spacing",
})  # fmt: skip


def collect(
    res: TaskResult, task: ConvertTask | None, result: ConvertResult,
    on_done: Callable[[TaskResult], None],
) -> None:  # fmt: skip
    """One result into the tallies: every source of the task ends in one list; a converted
    task's rows, instance and ``sources.csv`` rows go to ``on_done``."""
    result.slowest = max(result.slowest, (res.seconds, escape_name(res.task_id)))
    if res.error is None:
        result.not_images += res.dropped
        result.failures += res.failed  # files left out of the series (their pixels fail)
        result.converted += 1
        on_done(res)
        return
    at_fault = res.error_source or res.task_id
    (result.not_images if res.skipped else result.failures).append(
        (escape_name(at_fault), res.error)
    )
    # a series refused under --strict for its problems did not fail: said which it was
    for other in task.sources if task is not None else ():
        if other != at_fault:
            result.failures.append(
                (escape_name(other), mate_reason(res.error, escape_name(at_fault)))
            )


def resolve_collisions(
    store: Store, root: Path, out: Path, runner: Runner, result: ConvertResult
) -> list[TaskResult]:
    """Files that share a SOPInstanceUID wrote the same output names. A byte-identical copy
    is listed as skipped (a duplicate of the first); different images are converted again
    under names made from the UID and the file, so none overwrites another. Returns the
    results of the files converted again (their rows are in ``store``)."""
    groups = store.shared_outputs()
    if not groups:
        return []
    needed = {s for group in groups for s in group}
    raw = {name: p.rel for p in find_files(root) if (name := escape_name(p.rel)) in needed}
    clashing: set[str] = set()
    skipped: set[str] = set()  # a multi-frame copy is in one group per frame: skip it once
    for group in groups:
        first: dict[str, str] = {}
        for source in group:
            if source in skipped:
                continue
            digest = file_digest(root / raw[source]) if source in raw else source
            if digest in first and first[digest] != source:
                skipped.add(source)
                take_back(store, source, result)
                result.not_images.append((source, duplicate_note(first[digest])))
                store.drop_source(source)
            else:
                first.setdefault(digest, source)
        if len(first) > 1:
            clashing.update(first.values())
    clashing -= skipped
    if not clashing:
        return []
    key_of = {}
    for source in sorted(clashing):
        for row in store.rows_of(source):
            key_of[source] = row["instance_key"]
            (out / row["output"]).unlink(missing_ok=True)
        store.drop_source(source)
        take_back(store, source, result)  # each is converted again, and counted then
    tasks = [
        ConvertTask(str(root), str(out), (raw[s],), instance_key=shared_instance_key(key_of[s], s))
        for s in sorted(clashing)
    ]
    note = SHARED_UID_NOTE
    redone: list[TaskResult] = []

    def done(res: TaskResult) -> None:
        store.add_rows(res.rows)
        redone.append(res)

    for res in runner.map(tasks):
        fixed = [{**r, "problems": add_notes(r["problems"], [note])} for r in res.rows]
        collect(replace(res, rows=tuple(fixed)), None, result, done)
    return redone


def take_back(store: Store, source: str, result: ConvertResult) -> None:
    """A file whose rows are dropped (a copy, converted again, refused) is no longer done:
    no longer already done when its rows were kept from the last run, else no longer
    converted (a rerun counted the kept ones converted: ``-3 converted`` under --strict)."""
    if store.unkeep(source):
        result.skipped -= 1
    else:
        result.converted -= 1


def refuse_problem_rows(store: Store, out: Path, result: ConvertResult) -> None:
    """``--strict``: no output whose manifest row has a problem.

    Problems found only after a file was converted (its series' geometry: ``refused: ...``,
    ``split: ...``, ``duplicates ...``; a SOPInstanceUID shared with another file) refuse the
    file here: its outputs are removed and ``errors.csv`` gives the problems as the reason.
    """
    for source, problems in store.problem_sources().items():
        for row in store.rows_of(source):
            (out / row["output"]).unlink(missing_ok=True)
        store.drop_source(source)
        take_back(store, source, result)
        result.failures.append((source, strict_reason(problems)))


def as_ranks(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """A file's frames have ranks 0..F-1, so rank = slice_index - min(slice_index)."""
    base = min(int(r["slice_index"]) for r in rows)
    return [{**r, "slice_index": str(int(r["slice_index"]) - base)} for r in rows]


Place = dict[tuple[str, int], tuple[int, int, int, str]]


def placement(s: Any) -> tuple[Place, dict[str, str]]:
    """Where each frame of one assembled series lies: ``{(source, frame): (volume,
    slice_index, num_slices, slice_spacing)}``, and each source's notes (its series'
    problems as they apply per instance)."""
    place: Place = {}
    notes: dict[str, str] = {}
    for inst in s.instances:
        notes[escape_name(inst.path)] = join_notes(map(per_instance, s.problems))
    plan = s.plan
    v = 0
    for volume in plan.volumes if plan is not None else []:
        # per instance nothing is shifted or resampled: a tilted stack stays sheared
        even = volume.affine is not None and volume.grid is None and not volume.sheared
        even = even and volume.shifts is None
        step = f"{volume.spacing[0]:g}" if even and len(volume.frames[0]) > 1 else ""
        for frames in volume.frames:
            for k, idx in enumerate(frames):
                ref = plan.frames[idx]
                if ref.mosaic:
                    notes[escape_name(ref.source)] = MOSAIC_WHOLE
                else:
                    key = (escape_name(ref.source), ref.frame)
                    place.setdefault(key, (v, k, len(frames), step))
            v += 1
    return place, notes


#: The columns :func:`placed` reads and writes (a row of only these is enough for it).
PLACED_COLUMNS = ("source", "frame", "problems", "slice_index", "num_slices", "volume",
                  "slice_spacing")  # fmt: skip


def placed(rows: list[dict[str, str]], place: Place, notes: dict[str, str]) -> list[dict[str, str]]:
    """The rows placed in their assembled volume (``volume``, ``slice_index`` along the
    normal, ``num_slices``, ``slice_spacing``), with their series' ``problems``.

    Rows of images in no volume (a refused series, a mosaic) keep their rank within the file.
    """
    fixed = []
    for row in rows:
        where = place.get((row["source"], int(row["frame"] or 0)))
        problems = merge_cells(row.get("problems", ""), notes.get(row["source"], ""))
        if where is None:
            fixed.append({**row, "problems": problems})
            continue
        v, k, count, step = where
        fixed.append({**row, "slice_index": str(k), "num_slices": str(count), "volume": str(v),
                      "slice_spacing": step, "problems": problems})  # fmt: skip
    return fixed


#: What a series problem means when every image is written as it is (``--per instance``).
_PER_INSTANCE = {
    "resampled": ("uneven spacing", "not resampled per instance (slice_spacing empty, "
                  "--per series resamples)"),
    "tilt corrected": ("gantry tilt", "not corrected per instance (slice_spacing empty, "
                       "--per series corrects it)"),
    "duplicates dropped": ("duplicates", "written per file per instance (a byte-identical "
                           "copy is skipped, see errors.csv)"),
}  # fmt: skip


def per_instance(problem: str) -> str:
    """A series problem as it applies per instance: nothing is resampled, de-sheared,
    demosaiced or dropped there, so the note says what is true of the outputs."""
    kind, _, detail = problem.partition(": ")
    if kind not in _PER_INSTANCE:
        return problem
    name, meaning = _PER_INSTANCE[kind]
    return f"{name}: {meaning}, {detail}"
