"""Header-only index of a DICOM folder: instances grouped into series, sorted, with problems.

Series are grouped by SeriesInstanceUID (never by folder) and assembled into volumes by
:func:`pipeline.dicom.assemble.plan_series` (orientations, co-located stacks, duplicates,
tilt, uneven spacing); the index orders instances by volume, then along the slice normal.
"""

from __future__ import annotations

import csv
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.dicom import files
from pipeline.dicom.assemble import GeometryPolicy, SeriesPlan, plan_series
from pipeline.dicom.collector import older_objects_frozen
from pipeline.dicom.decode import DEFAULT_MAX_PIXELS
from pipeline.dicom.files import Problem
from pipeline.dicom.header import (
    Instance,
    instance_from,
    iter_files,
    plane_attr,
    read_dataset,
    read_header,
)
from pipeline.dicom.shared_uid import note_shared_uids
from pipeline.dicom.split_uids import split_series_notes
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key

#: ``mapper(fn, items)``: ``fn`` applied to every item, results in order (like ``map``);
#: ``items`` is a generator, to be read as the results are needed.
Mapper = Callable[[Callable[[str], Any], Iterable[str]], Iterable[Any]]

INDEX_COLUMNS = [
    "path", "patient_key", "study_key", "series_key", "instance_key", "modality", "rows",
    "columns", "frames", "slice_index", "num_slices", "stack", "transfer_syntax", "size_bytes",
    "photometric", "lossy",
]  # fmt: skip


@dataclass
class Series:
    """The instances of one series in anatomical order, with the problems found."""

    uid: str
    instances: list[Instance]
    distances: list[float] | None = None
    stacks: list[int] = field(default_factory=list)
    spacing: float | None = None
    problems: list[str] = field(default_factory=list)
    plan: SeriesPlan | None = None

    @property
    def key(self) -> str:
        """The series' opaque key: ``hash_key`` of SeriesInstanceUID."""
        return hash_key(self.uid)

    @property
    def first(self) -> Instance:
        """The first instance (in the series' current order)."""
        return self.instances[0]

    @property
    def num_stacks(self) -> int:
        """The number of volumes (time points counted apart) the series assembles into.

        A duplicate left out of them (``stacks`` one past the last) is none.
        """
        if self.plan is not None and self.plan.volumes:
            return sum(len(v.frames) for v in self.plan.volumes)
        return len(set(self.stacks)) if self.stacks else 1

    def _placed(self) -> int:
        if self.plan is None or not self.plan.volumes:
            return len(self.instances)
        return sum(len(stack) for v in self.plan.volumes for stack in v.frames)

    def _time_points(self) -> int:
        """The time points of the series' volumes when each is 4-D with as many, else 1."""
        counts = {len(v.frames) for v in self.plan.volumes} if self.plan else set()
        return counts.pop() if len(counts) == 1 else 1

    def _sizes(self) -> list[str]:
        """Rows x columns of the images ``convert --per series`` stacks.

        A mosaic's tiles (``64x64``), not the tiled image its header describes (``384x384``);
        the files' own when the series makes no volume.
        """
        plan = self.plan
        if plan is None or not plan.volumes:
            return sorted({f"{i.rows}x{i.columns}" for i in self.instances})
        placed = (plan.frames[k] for v in plan.volumes for stack in v.frames for k in stack)
        return sorted({f"{f.rows}x{f.columns}" for f in placed})

    def _spacing_range(self) -> list[float] | None:
        """The smallest and largest slice step of the series' volumes when they differ.

        ``spacing_mm`` is the first volume's; a series of volumes 1 and 5 mm apart (two
        reconstructions, a split) said only "1 mm".
        """
        volumes = self.plan.volumes if self.plan else []
        steps = {round(v.spacing[0], 4) for v in volumes if v.affine is not None
                 and v.num_slices > 1}  # fmt: skip
        return [min(steps), max(steps)] if len(steps) > 1 else None

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly description with hashed keys only."""
        sizes = self._sizes()
        return {
            "series_key": self.key,
            "modality": self.first.modality,
            "description": self.first.description,
            "size": ",".join(sizes),
            "files": len(self.instances),
            # 2-D images placed in volumes (frames of multi-frame files and mosaic tiles
            # counted, duplicates not): what convert --per series stacks
            "slices": self._placed(),
            # a 4-D volume's time points (its slices are those of all of them); 1 otherwise
            "time_points": self._time_points(),
            "stacks": self.num_stacks,
            "volumes": 0 if self.plan is None else len(self.plan.volumes),
            "frames": sum(i.frames for i in self.instances),
            "spacing_mm": None if self.spacing is None else round(self.spacing, 4),
            "spacing_mm_range": self._spacing_range(),  # [min, max] when the volumes differ
            "transfer_syntax": sorted({i.transfer_syntax for i in self.instances}),
            # what says the pixels went through lossy compression (information, no problem)
            "lossy": sorted({r.lossy for i in self.instances for r in i.frame_refs[:1] if r.lossy}),
            "problems": list(self.problems),
        }


@dataclass
class DicomIndex:
    """The result of :func:`index_folder`: series, plus files that are not usable images."""

    root: Path
    series: list[Series]
    problems: list[Problem]
    files_scanned: int = 0

    def rows(self) -> Iterator[dict[str, Any]]:
        """One row per instance, hashed keys only (the ``index.csv`` columns)."""
        for s in self.series:
            yield from series_rows(s)

    def write_csv(self, path: str | Path) -> Path:
        """Write ``index.csv`` atomically; returns the path."""
        return write_index_csv(path, self.rows())

    def to_dict(self) -> dict[str, Any]:
        """Patients -> studies -> series, with problems; hashed keys only."""
        tree: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for s in self.series:
            tree[hash_key(s.first.patient_id)][hash_key(s.first.study_uid)].append(s.summary())
        patients = [
            {
                "patient_key": p,
                "studies": [{"study_key": st, "series": ser} for st, ser in studies.items()],
            }
            for p, studies in tree.items()
        ]
        return {
            "files": self.files_scanned,
            "instances": sum(len(s.instances) for s in self.series),
            "series": len(self.series),
            "patients": patients,
            "problems": [
                {"where": files.escape_name(p.where), "reason": p.reason, "kind": _kind(p)}
                for p in self.all_problems()
            ],
        }

    def failed_by_series(self) -> dict[str, list[Problem]]:
        """``{series_key: [problem, ...]}`` of files that failed in a series.

        The series' other files are usable, but a volume without a failed one would be wrong
        unless it repeats a readable slice's position (``Problem.series_key``,
        :func:`~pipeline.dicom.failed_slices.repeated_slices`).
        """
        found: dict[str, list[Problem]] = {}
        for p in self.problems:
            if p.series_key:
                found.setdefault(p.series_key, []).append(p)
        return found

    def mark_incomplete(self) -> None:
        """Say on each series with a failed file what ``convert --per series`` will do.

        ``incomplete: <file> of this series failed, ...``: it is left out (it repeats the
        position of a readable slice) or the series is refused (a volume would have a gap).
        """
        from pipeline.dicom.failed_slices import incomplete_notes

        failed = self.failed_by_series()
        for s in self.series:
            said = any(p.startswith("incomplete: ") for p in s.problems)
            if s.key in failed and not said:
                s.problems[:0] = incomplete_notes(failed[s.key], s.instances)

    def all_problems(self) -> list[Problem]:
        """File problems, notes on usable files, then series problems (``series <key>``)."""
        found = list(self.problems)
        for s in self.series:
            found += [Problem(i.path, f"note: {note}") for i in s.instances for note in i.notes]
        for s in self.series:
            found += [Problem(f"series {s.key}", reason) for reason in s.problems]
        return found


def _kind(problem: Problem) -> str:
    """The kind of a problem: ``error``, ``skipped``, ``note`` or ``series``.

    ``skipped``: not an image; ``note``: converted, with a problem entry; ``series``: a
    problem of a series, e.g. missing slices.
    """
    if problem.skipped:
        return "skipped"
    if problem.where.startswith("series "):
        return "series"
    return "note" if problem.reason.startswith("note: ") else "error"


def series_rows(s: Series) -> Iterator[dict[str, Any]]:
    """The ``index.csv`` rows of one series, in its order (hashed keys only)."""
    for k, inst in enumerate(s.instances):
        yield {
            "path": files.escape_name(inst.path),  # printable, valid UTF-8
            "patient_key": hash_key(inst.patient_id),
            "study_key": hash_key(inst.study_uid),
            "series_key": s.key,
            "instance_key": hash_key(inst.sop_uid),
            "modality": inst.modality,
            "rows": inst.rows,
            "columns": inst.columns,
            "frames": inst.frames,
            "slice_index": k,
            "num_slices": len(s.instances),
            "stack": s.stacks[k] if s.stacks else 0,
            "transfer_syntax": inst.transfer_syntax,
            "size_bytes": inst.size_bytes,
            "photometric": inst.photometric.strip().upper(),
            "lossy": inst.frame_refs[0].lossy if inst.frame_refs else "",  # lossy.lossy_history
        }


def write_index_csv(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write ``index.csv`` rows (:data:`INDEX_COLUMNS`) atomically; returns the path."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=INDEX_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def index_folder(
    src: str | Path,
    policy: GeometryPolicy | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    mapper: Mapper | None = None,
) -> DicomIndex:
    """Scan every file under ``src`` (headers only) and assemble sorted series.

    Every file found is either an instance or a :class:`Problem` (unreadable folders and
    dangling links included); images over ``max_pixels`` are problems, as in ``convert``.
    ``mapper(fn, paths)`` applies ``fn`` (picklable) to every path and yields the results in
    order: the built-in ``map`` by default, a process pool to read headers in parallel
    (``radpipe inspect --workers N`` passes :func:`workflows.convert.pool.map_tasks`).

    Examples
    --------
    >>> index = index_folder("scans/")  # doctest: +SKIP
    >>> index.write_csv("index.csv")  # doctest: +SKIP
    """
    root = Path(src)
    if not root.is_dir():
        raise NotADirectoryError(f"{src}: not a folder.")
    instances: list[Instance] = []
    problems: list[Problem] = []
    with older_objects_frozen():  # the collector traverses the index's objects only
        for header in scan_headers(root, max_pixels=max_pixels, mapper=mapper):
            if isinstance(header, Instance):
                instances.append(header)
            else:
                problems.append(header)
        instances = note_shared_uids(instances, root)  # as convert names or skips them
        index = DicomIndex(root, assemble_series(instances, policy), problems,
                           files_scanned=len(instances) + len(problems))  # fmt: skip
    index.mark_incomplete()
    return index


def scan_headers(
    root: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, mapper: Mapper | None = None
) -> Iterator[Instance | Problem]:
    """Every file under ``root``, in the order found: an Instance, or a Problem saying why not.

    Unreadable folders and dangling links are problems too. Files are found and read as the
    results are taken, so nothing is held for the whole folder; ``mapper`` as in
    :func:`index_folder`.
    """
    waiting: deque[Problem | None] = deque()  # None: the place of a header still being read

    def readable() -> Iterator[str]:
        for item in files.find_files(root):
            if item.problem:
                waiting.append(Problem(item.rel, item.problem, skipped=item.skipped))
            else:
                waiting.append(None)
                yield item.path

    read = partial(read_header, root=root, max_pixels=max_pixels)
    for header in (mapper or map)(read, readable()):
        while (problem := waiting.popleft()) is not None:
            yield problem
        yield header
    yield from (p for p in waiting if p is not None)  # found after the last readable file


def assemble_series(
    instances: Iterable[Instance], policy: GeometryPolicy | None = None
) -> list[Series]:
    """Group by SeriesInstanceUID and assemble each series (see :func:`sort_series`)."""
    groups: dict[str, list[Instance]] = defaultdict(list)
    for inst in instances:
        groups[inst.series_uid].append(inst)
    series = [sort_series(uid, members, policy) for uid, members in groups.items()]
    split = split_series_notes(groups.items())
    for s in series:
        s.problems += [split[s.uid]] if s.uid in split else []
    series.sort(key=lambda s: (s.first.patient_id, s.first.study_uid, s.uid))
    return series


def sort_series(uid: str, members: list[Instance], policy: GeometryPolicy | None = None) -> Series:
    """Assemble one series into volumes and order its instances.

    Volumes come from :func:`~pipeline.dicom.assemble.plan_series`; instances are ordered by
    volume, then along the normal; what was found and done is recorded.
    """
    refs = [r for m in members for r in m.frame_refs]
    plan = plan_series(refs, policy)
    problems = [f"refused: {plan.refusal}"] if plan.refusal else plan.problems
    sizes = {(i.rows, i.columns) for i in members}
    if len(sizes) > 1:
        problems.insert(0, f"mixed image sizes: {', '.join(f'{r}x{c}' for r, c in sorted(sizes))}")
    place: dict[str, tuple[int, int]] = {}
    stack = 0
    for volume in plan.volumes:
        for frames in volume.frames:
            for k, idx in enumerate(frames):
                place.setdefault(refs[idx].source, (stack, k))
            stack += 1
    fallback = len(plan.volumes) and stack  # frames left out (duplicates) go last
    order = sorted(
        members,
        key=lambda i: (*place.get(i.path, (fallback, 0)), i.instance_number or 0, i.path),
    )
    # the first volume of several slices: a one-slice localizer filed first has no step
    stacked = [v for v in plan.volumes if v.affine is not None and v.num_slices > 1]
    spacing = stacked[0].spacing[0] if stacked else None
    placed = all(i.position is not None and i.orientation is not None for i in order)
    return Series(
        uid,
        order,
        distances=[_distance(i) for i in order] if placed else None,
        stacks=[place.get(i.path, (fallback, 0))[0] for i in order],
        spacing=spacing,
        problems=problems,
        plan=plan,
    )


def _distance(inst: Instance) -> float:
    """ImagePositionPatient projected on the instance's own slice normal (mm)."""
    normal = _normal(inst.orientation)
    return float(np.dot(inst.position, normal))  # type: ignore[arg-type]


@lru_cache(maxsize=256)
def _normal(orientation: tuple[float, ...]) -> Any:
    """The slice normal of an orientation (a series has one or a few: computed once each)."""
    from pipeline.dicom.geometry import slice_normal

    return slice_normal(orientation)


__all__ = [
    "INDEX_COLUMNS", "DicomIndex", "Instance", "Problem", "Series", "assemble_series",
    "index_folder", "instance_from", "iter_files", "plane_attr", "read_dataset", "read_header",
    "scan_headers", "series_rows", "sort_series", "write_index_csv",
]  # fmt: skip
