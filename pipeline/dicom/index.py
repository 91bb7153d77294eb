"""Header-only index of a DICOM folder: instances grouped into series, sorted, with problems.

Series are grouped by SeriesInstanceUID (never by folder) and assembled into volumes by
:func:`pipeline.dicom.assemble.plan_series` (orientations, co-located stacks, duplicates,
tilt, uneven spacing); the index orders instances by volume, then along the slice normal.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.dicom.assemble import GeometryPolicy, SeriesPlan, plan_series
from pipeline.dicom.frames import STACK_KEYS, FrameRef, attribute, frame_refs
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key

INDEX_COLUMNS = [
    "path", "patient_key", "study_key", "series_key", "instance_key", "modality", "rows",
    "columns", "frames", "slice_index", "num_slices", "stack", "transfer_syntax", "size_bytes",
]  # fmt: skip


@dataclass(frozen=True)
class Instance:
    """Header facts about one DICOM file; ``path`` is relative to the indexed folder."""

    path: str
    size_bytes: int
    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str
    modality: str
    description: str
    rows: int
    columns: int
    frames: int
    transfer_syntax: str
    photometric: str
    instance_number: int | None
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    stack_values: tuple[Any, ...]
    frame_refs: tuple[FrameRef, ...] = ()


@dataclass(frozen=True)
class Problem:
    """Something wrong with a file (``path``) or a series (``series_key``)."""

    where: str
    reason: str


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
        """The number of volumes (time points counted apart) the series assembles into."""
        return len(set(self.stacks)) if self.stacks else 1

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly description with hashed keys only."""
        sizes = sorted({f"{i.rows}x{i.columns}" for i in self.instances})
        return {
            "series_key": self.key,
            "modality": self.first.modality,
            "description": self.first.description,
            "size": ",".join(sizes),
            "slices": len(self.instances),
            "stacks": self.num_stacks,
            "volumes": 0 if self.plan is None else len(self.plan.volumes),
            "frames": sum(i.frames for i in self.instances),
            "spacing_mm": None if self.spacing is None else round(self.spacing, 4),
            "transfer_syntax": sorted({i.transfer_syntax for i in self.instances}),
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
            for k, inst in enumerate(s.instances):
                yield {
                    "path": inst.path,
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
                }

    def write_csv(self, path: str | Path) -> Path:
        """Write ``index.csv`` atomically; returns the path."""
        with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=INDEX_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows())
        return Path(path)

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
            "problems": [{"where": p.where, "reason": p.reason} for p in self.all_problems()],
        }

    def all_problems(self) -> list[Problem]:
        """File problems, then series problems (``series <key>: ...``)."""
        found = list(self.problems)
        for s in self.series:
            found += [Problem(f"series {s.key}", reason) for reason in s.problems]
        return found


def iter_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root``, in a stable order, skipping hidden files."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def read_dataset(path: Path, rel: str, *, pixels: bool = False) -> Any:
    """Read a file with pydicom, or return a :class:`Problem` saying why it is not DICOM.

    Files without the 128-byte preamble or file meta are accepted when they parse into a
    dataset with a SOPInstanceUID (such files exist in real exports).
    """
    import warnings

    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    if path.stat().st_size == 0:
        return Problem(rel, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return dcmread(path, stop_before_pixels=not pixels)
            except InvalidDicomError:
                ds = dcmread(path, stop_before_pixels=not pixels, force=True)
                if "SOPInstanceUID" not in ds or "SeriesInstanceUID" not in ds:
                    return Problem(rel, "not a DICOM file (no DICM prefix, no DICOM header)")
                return ds
    except Exception as err:
        return Problem(rel, f"unreadable DICOM header: {type(err).__name__}: {err}")


def read_header(path: Path, root: Path) -> Instance | Problem:
    """Read one file's header (no pixels) into an :class:`Instance`, or a :class:`Problem`."""
    rel = path.relative_to(root).as_posix()
    ds = read_dataset(path, rel)
    if isinstance(ds, Problem):
        return ds
    return instance_from(ds, rel, path.stat().st_size)


def instance_from(ds: Any, rel: str, size: int) -> Instance | Problem:
    """An :class:`Instance` from the header of ``rel`` (``size`` bytes), or a :class:`Problem`."""
    if "SeriesInstanceUID" not in ds:
        return Problem(rel, "no SeriesInstanceUID (0020,000E)")
    if "Rows" not in ds or "Columns" not in ds:
        sop = ds.get("SOPClassUID")
        return Problem(
            rel, f"not an image (no Rows/Columns; SOP class {getattr(sop, 'name', sop)})"
        )
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    number = ds.get("InstanceNumber")
    return Instance(
        path=rel,
        size_bytes=size,
        patient_id=str(ds.get("PatientID", "")),
        study_uid=str(ds.get("StudyInstanceUID", "")),
        series_uid=str(ds.SeriesInstanceUID),
        sop_uid=str(ds.get("SOPInstanceUID", rel)),
        modality=str(ds.get("Modality", "")),
        description=str(ds.get("SeriesDescription", "")),
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        frames=_int(ds.get("NumberOfFrames")) or 1,
        transfer_syntax=str(syntax) if syntax else "",
        photometric=str(ds.get("PhotometricInterpretation", "")),
        instance_number=_int(number),
        position=_floats(plane_attr(ds, "PlanePositionSequence", "ImagePositionPatient"), 3),
        orientation=_floats(
            plane_attr(ds, "PlaneOrientationSequence", "ImageOrientationPatient"), 6
        ),
        pixel_spacing=_floats(plane_attr(ds, "PixelMeasuresSequence", "PixelSpacing"), 2),
        stack_values=tuple(_plain(ds.get(k)) for k in STACK_KEYS),
        frame_refs=tuple(frame_refs(ds, rel)),
    )


def plane_attr(ds: Any, group: str, keyword: str, frame: int = 0) -> Any:
    """``keyword`` of one frame.

    Per-frame, then Shared functional group, then the top level (see
    :func:`pipeline.dicom.frames.attribute`).
    """
    return attribute(ds, group, keyword, frame)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _floats(value: Any, n: int) -> Any:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return out if len(out) == n else None


def _plain(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def index_folder(src: str | Path, policy: GeometryPolicy | None = None) -> DicomIndex:
    """Scan every file under ``src`` (headers only) and assemble sorted series.

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
    n = 0
    for path in iter_files(root):
        n += 1
        found = read_header(path, root)
        (instances if isinstance(found, Instance) else problems).append(found)  # type: ignore[arg-type]
    return DicomIndex(root, assemble_series(instances, policy), problems, files_scanned=n)


def assemble_series(
    instances: Iterable[Instance], policy: GeometryPolicy | None = None
) -> list[Series]:
    """Group by SeriesInstanceUID and assemble each series (see :func:`sort_series`)."""
    groups: dict[str, list[Instance]] = defaultdict(list)
    for inst in instances:
        groups[inst.series_uid].append(inst)
    series = [sort_series(uid, members, policy) for uid, members in groups.items()]
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
    spacing = None
    if plan.volumes and plan.volumes[0].affine is not None and plan.volumes[0].num_slices > 1:
        spacing = plan.volumes[0].spacing[0]
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
    import numpy as np

    from pipeline.dicom.geometry import slice_normal

    normal = slice_normal(inst.orientation)  # type: ignore[arg-type]
    return float(np.dot(inst.position, normal))  # type: ignore[arg-type]
