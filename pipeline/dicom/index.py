"""Header-only index of a DICOM folder: instances grouped into series, sorted, with problems.

Series are grouped by SeriesInstanceUID (never by folder) and sorted by ImagePositionPatient
projected on the slice normal; InstanceNumber is only the fallback where geometry is absent.
Co-located slices (time points, diffusion directions) are kept apart as separate stacks,
told apart by the first of TemporalPositionIdentifier, AcquisitionNumber, EchoNumbers,
TriggerTime or DiffusionBValue that makes every (stack, position) pair unique.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.dicom import geometry
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key

_STACK_KEYS = (
    "TemporalPositionIdentifier",
    "AcquisitionNumber",
    "EchoNumbers",
    "TriggerTime",
    "DiffusionBValue",
)

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

    @property
    def key(self) -> str:
        return hash_key(self.uid)

    @property
    def first(self) -> Instance:
        return self.instances[0]

    @property
    def num_stacks(self) -> int:
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
        stack_values=tuple(_plain(ds.get(k)) for k in _STACK_KEYS),
    )


def plane_attr(ds: Any, group: str, keyword: str, frame: int = 0) -> Any:
    """``keyword`` from the dataset, else the per-frame, else the shared functional groups."""
    if keyword in ds:
        return ds.get(keyword)
    if "PerFrameFunctionalGroupsSequence" not in ds and "SharedFunctionalGroupsSequence" not in ds:
        return None
    for seq_name, index in (("PerFrameFunctionalGroupsSequence", frame),
                            ("SharedFunctionalGroupsSequence", 0)):  # fmt: skip
        seq = ds.get(seq_name)
        sub = seq[index].get(group) if seq and len(seq) > index else None
        if sub:
            item = sub[0]
            if keyword in item:
                return item.get(keyword)
    return None


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


def index_folder(src: str | Path) -> DicomIndex:
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
    return DicomIndex(root, assemble_series(instances), problems, files_scanned=n)


def assemble_series(instances: Iterable[Instance]) -> list[Series]:
    """Group by SeriesInstanceUID and sort each series (see :func:`sort_series`)."""
    groups: dict[str, list[Instance]] = defaultdict(list)
    for inst in instances:
        groups[inst.series_uid].append(inst)
    series = [sort_series(uid, members) for uid, members in groups.items()]
    series.sort(key=lambda s: (s.first.patient_id, s.first.study_uid, s.uid))
    return series


def sort_series(uid: str, members: list[Instance]) -> Series:
    """Order one series along its slice normal and record its problems."""
    problems: list[str] = []
    sizes = {(i.rows, i.columns) for i in members}
    if len(sizes) > 1:
        problems.append(f"mixed image sizes: {', '.join(f'{r}x{c}' for r, c in sorted(sizes))}")
    geo = [i for i in members if i.position is not None and i.orientation is not None]
    if len(geo) < len(members) or not members:
        ordered = sorted(members, key=lambda i: (i.instance_number or 0, i.path))
        if geo:  # projection images (CR, DX) have none at all, which is fine
            problems.append(
                f"slice geometry missing on {len(members) - len(geo)} of {len(members)} images: "
                "ordered by InstanceNumber"
            )
        return Series(uid, ordered, problems=problems)
    orientations = np.array([i.orientation for i in members])
    if np.abs(orientations - orientations[0]).max() > 1e-3:
        problems.append("mixed ImageOrientationPatient within the series")
    normal = geometry.slice_normal(members[0].orientation)  # type: ignore[arg-type]
    dist = geometry.positions_along(normal, [i.position for i in members])  # type: ignore[misc]
    stack_of = _stack_ids(members, dist, problems)
    order = sorted(
        range(len(members)),
        key=lambda k: (stack_of[k], round(float(dist[k]), 3), members[k].instance_number or 0),
    )
    series = Series(
        uid,
        [members[k] for k in order],
        distances=[float(dist[k]) for k in order],
        stacks=[stack_of[k] for k in order],
        problems=problems,
    )
    _check_spacing(series, normal)
    return series


def _stack_ids(members: list[Instance], dist: np.ndarray, problems: list[str]) -> list[int]:
    """Stack number per instance: 0 unless positions repeat (time points, directions)."""
    rounded = [round(float(d), 3) for d in dist]
    if len(set(rounded)) == len(rounded):
        return [0] * len(members)
    for j in range(len(_STACK_KEYS)):
        values = [m.stack_values[j] for m in members]
        if any(v is None for v in values):
            continue
        if len(set(zip(values, rounded))) == len(members):
            ranks = {v: r for r, v in enumerate(sorted(set(values), key=str))}
            return [ranks[v] for v in values]
    dupes = len(rounded) - len(set(rounded))
    problems.append(f"duplicate slice positions: {dupes} slice(s) share a position")
    return [0] * len(members)


def _check_spacing(series: Series, normal: np.ndarray) -> None:
    assert series.distances is not None
    dist = np.array(series.distances)
    stacks = np.array(series.stacks)
    steps = np.concatenate([np.diff(dist[stacks == s]) for s in np.unique(stacks)])
    positive = np.abs(steps[np.abs(steps) > 1e-3])
    if positive.size == 0:
        return
    step = float(np.median(positive))
    series.spacing = step
    gaps = positive[positive > 1.5 * step]
    if gaps.size:
        missing = int(np.sum(np.rint(gaps / step) - 1))
        series.problems.append(
            f"missing slices: {gaps.size} gap(s) of up to {gaps.max():.3g} mm "
            f"(spacing {step:.3g} mm; about {missing} slice(s) missing)"
        )
    uneven = positive[(np.abs(positive - step) > geometry.SPACING_TOLERANCE * step)]
    if uneven.size > gaps.size:
        series.problems.append(
            f"uneven slice spacing: steps from {positive.min():.3g} to {positive.max():.3g} mm"
        )
    first = series.stacks[0]
    positions = [i.position for i, s in zip(series.instances, series.stacks) if s == first]
    cosine = geometry.tilt_cosine(normal, positions)  # type: ignore[arg-type]
    if cosine < geometry.TILT_COSINE:
        angle = float(np.degrees(np.arccos(min(1.0, cosine))))
        series.problems.append(f"gantry tilt / sheared geometry: {angle:.1f} degrees")
