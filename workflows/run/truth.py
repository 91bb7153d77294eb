"""Labels and masks CSVs keyed by ``file``: resolved through the DICOM headers, checked first.

Most spreadsheets name files, not UIDs. A labels or masks CSV with a ``file`` column (and no
UID or key column) names each DICOM file by its path relative to ``data.source``, or to the
CSV's own folder. :func:`resolve_ground_truth` reads the header of every named file, checks
every key BEFORE anything is converted, and writes the same tables keyed by hashed UIDs into
the run directory (``truth/labels.csv``: ``series_key``; ``truth/masks.csv``: ``instance_key``,
``frame``, ``mask``), which is what the rest of the run reads. All problems are reported
together, with counts: files that do not exist under ``data.source``, files that are not
images with pixel data, files listed again with another label or mask (a row repeated as it
is counts once, as in a UID-keyed CSV), series whose files disagree on the label, and mask
files that do not exist.
"""

from __future__ import annotations

import csv
import os
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.cells import CsvRow, csv_frame, csv_label, csv_rows, name_lines
from pipeline.data.io import csv_path, csv_text
from pipeline.dicom.files import sanitize
from pipeline.dicom.index import Instance, Problem, instance_from
from pipeline.dicom.reasons import unexpected_failure
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key
from pipeline.memo import MAX_FILES, keep, used
from pipeline.words import counted
from workflows.run.config import DataConfig
from workflows.run.missing_files import case_hint
from workflows.run.paths import shown
from workflows.run.truth_rows import source_values

__all__ = [
    "FILE_COLUMN",
    "check_mask_values",
    "file_key_problems",
    "is_file_keyed",
    "relative_file",
    "resolve_ground_truth",
]

FILE_COLUMN = "file"
_UID_COLUMNS = ("series_uid", "series_key", "sop_instance_uid", "instance_key")
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_SHOWN = 10  # files named per kind of problem; the rest are counted


@dataclass(frozen=True)
class _Keyed:
    """A CSV row whose ``file`` was found under the source folder."""

    row: CsvRow
    rel: str  # relative to data.source, POSIX
    frame: int


def is_file_keyed(path: Path) -> bool:
    """Whether a labels/masks CSV names files (``file`` column) rather than UIDs or keys."""
    columns = _columns(path)
    return FILE_COLUMN in columns and not any(c in columns for c in _UID_COLUMNS)


def resolve_ground_truth(
    source: Path,
    labels: Path | None,
    masks: Path | None,
    folder: Path,
    *,
    label_column: str = "label",
    split_column: str | None = None,
) -> tuple[Path | None, Path | None]:
    """The labels and masks CSVs the run reads: UID-keyed ones unchanged, file-keyed ones
    resolved into ``folder/truth/``. Both are checked before either is written.

    Raises
    ------
    RadpipeError
        Listing every problem found with the ``file`` keys (see the module docstring).
    """
    jobs = ((labels, "labels"), (masks, "masks"))
    keyed = [(p, kind) for p, kind in jobs if p is not None and is_file_keyed(p)]
    if not keyed:
        return labels, masks
    headers: dict[str, Instance | str] = {}
    agree = (label_column, "class_name", *([split_column] if split_column else []))
    tables = {kind: _check(p, kind, source, headers, agree) for p, kind in keyed}
    for kind, rows in tables.items():
        _write(folder / "truth" / f"{kind}.csv", rows)
    out = {"labels": labels, "masks": masks} | {k: folder / "truth" / f"{k}.csv" for k in tables}
    return out["labels"], out["masks"]


def file_key_problems(
    source: Path, labels: Path | None, masks: Path | None, agree: tuple[str, ...]
) -> list[str]:
    """The checks of :func:`resolve_ground_truth` before a run directory is made: a problem
    per ``file``-keyed CSV (``data.labels``, ``data.masks``) listing its bad keys; ``[]``
    when there is none. A masks CSV naming DICOM SEGs is left to the run (its SEG rows may
    name no file). ``agree``: the columns a file listed again must repeat, label first."""
    from pipeline.dicom.seg_masks import is_dicom_file

    headers: dict[str, Instance | str] = {}
    problems = []
    for path, kind in ((labels, "labels"), (masks, "masks")):
        if path is None or not path.is_file() or not is_file_keyed(path):
            continue
        rows = _read(path)
        cells = [(r.get("mask") or "").strip() for r in rows] if kind == "masks" else []
        if any(c and is_dicom_file(csv_path(path.parent, c)) for c in cells):
            continue
        try:
            _check(path, kind, source.resolve(), headers, agree, rows)
        except RadpipeError as err:
            problems.append(f"data.{kind}: {err}")
    return problems


def _check(
    path: Path, kind: str, source: Path, headers: dict[str, Instance | str],
    agree: tuple[str, ...], rows: list[CsvRow] | None = None,
) -> list[dict[str, str]]:  # fmt: skip
    """The resolved rows of ``path`` (its ``rows``, when already read)."""
    rows = _read(path) if rows is None else rows
    problems: dict[str, list[str]] = defaultdict(list)
    keyed = _locate(path, rows, source, kind, problems, agree)
    for rel in sorted({k.rel for k in keyed} - set(headers)):
        headers[rel] = _read_header(source / rel, rel)
    good = []
    for k in keyed:
        header = headers[k.rel]
        if isinstance(header, str):
            problems["not an image with pixel data"].append(f"{k.rel} ({header})")
        elif not 0 <= k.frame < header.frames:
            problems["frame out of range"].append(f"{k.rel} frame {k.frame} of {header.frames}")
        else:
            good.append((k, header))
    if kind == "labels":
        out = _by_series(good, problems, agree)
    else:
        out = _by_instance(path, good, problems)
    if problems:
        raise RadpipeError(_message(path, kind, problems))
    return out


def _locate(
    path: Path, rows: list[CsvRow], source: Path, kind: str,
    problems: dict[str, list[str]], agree: tuple[str, ...],
) -> list[_Keyed]:  # fmt: skip
    """Rows whose file exists under ``source``, each file (and frame) once; the rest go to
    ``problems``. A file listed again as it was (the same mask; the same ``agree`` values,
    label first) is kept once, as a UID-keyed CSV's repeated row is; listed again with
    another is a problem, naming the lines."""
    root = source.resolve()
    found: dict[tuple[str, int], list[_Keyed]] = defaultdict(list)
    for row in rows:
        name = (row.get(FILE_COLUMN) or "").strip()
        rel = relative_file(name, root, path.parent.resolve()) if name else None
        if rel is None:
            problems["not found under data.source"].append(
                name + case_hint(root, name) if name else f"(empty, line {row.line})"
            )
            continue
        try:
            frame = csv_frame(row.get("frame")) if kind == "masks" else 0
        except ValueError:
            problems["frame not a frame number"].append(f"{name} ({row.get('frame')!r})")
            continue
        found[(rel, frame)].append(_Keyed(row, rel, frame))
    kept = []
    for (rel, frame), repeats in found.items():
        differ = _first_difference(path, kind, repeats, agree)
        if differ:
            where = f"{rel} frame {frame}" if kind == "masks" else rel
            lines = name_lines([k.row.line for k in repeats])
            problems[f"listed again with another {differ}"].append(f"{where} ({lines})")
        else:
            kept.append(repeats[0])
    return kept


def _first_difference(path: Path, kind: str, repeats: list[_Keyed], agree: tuple[str, ...]) -> str:
    """What the rows of one file (and frame) disagree on: ``"mask"`` (the file a mask cell
    names), else the first ``agree`` column whose values differ; ``""`` when they agree."""
    if kind == "masks":
        masks = {csv_path(path.parent, (k.row.get("mask") or "").strip()).resolve()
                 for k in repeats}  # fmt: skip
        return "mask" if len(masks) > 1 else ""
    for column in agree:  # compared as the labels are read: " 1.0 " is 1
        if len({csv_label(k.row.get(column)) for k in repeats}) > 1:
            return column
    return ""


def relative_file(name: str, root: Path, csv_dir: Path) -> str | None:
    """``name`` as a path relative to ``root``: taken from ``root``, else from ``csv_dir``."""
    for base in (root, csv_dir):
        candidate = csv_path(base, name).resolve()
        if candidate.is_file() and candidate.is_relative_to(root):
            return candidate.relative_to(root).as_posix()
    return None


#: At most this many files' header facts are kept (see :data:`pipeline.memo.MAX_FILES`): the
#: check before the run directory and the run read the same files.
MAX_HEADERS = MAX_FILES
#: Each file's facts by its absolute and relative path, change time and size, least recently
#: used first.
_HEADERS: OrderedDict[tuple[str, str, int, int], Instance | str] = OrderedDict()


def _read_header(path: Path, rel: str) -> Instance | str:
    """The file's header facts, or why it is not an image with pixel data; read once per
    process while the file is unchanged (the checks before the run directory read every
    named file, and the run read them all again; the patients' check, another).

    Pixel data are not read: values above 1 KB are skipped over (``defer_size``).
    """
    try:
        stat = path.stat()
    except OSError as err:
        return f"unreadable: {unexpected_failure(err, sanitize(str(err)))}"
    key = (os.fspath(path.absolute()), rel, stat.st_mtime_ns, stat.st_size)  # rel: its name
    if used(_HEADERS, key):
        return _HEADERS[key]
    return keep(_HEADERS, key, _header_facts(path, rel), MAX_HEADERS)


def _header_facts(path: Path, rel: str) -> Instance | str:
    import warnings

    from pydicom import dcmread

    from pipeline.dicom.header_scan import keep_header

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(path, force=True, defer_size=1024)
    except Exception as err:
        return f"unreadable: {unexpected_failure(err, sanitize(str(err)))}"
    keep_header(path, ds)  # the patients' check reads these tags: not the file again
    if "SOPInstanceUID" not in ds:
        return "not a DICOM file"
    found = instance_from(ds, rel, path.stat().st_size)
    if isinstance(found, Problem):
        return found.reason
    if not any(k in ds for k in _PIXEL_KEYWORDS):
        return "no pixel data (7FE0,0010)"
    return found


def _by_series(
    good: list[tuple[_Keyed, Instance]], problems: dict[str, list[str]], agree: tuple[str, ...]
) -> list[dict[str, str]]:
    """One row per series (``file`` replaced by ``series_key``); its files must agree on
    the ``agree`` columns (label, class name and split.column)."""
    series: dict[str, list[tuple[_Keyed, Instance]]] = defaultdict(list)
    for k, inst in good:
        series[hash_key(inst.series_uid)].append((k, inst))
    out = []
    for key, members in series.items():
        values = {tuple(k.row.get(c) for c in agree) for k, _ in members}
        if len(values) > 1:
            names = ", ".join(sorted(k.rel for k, _ in members)[:4])
            what = "labels" if len({v[:2] for v in values}) > 1 else "splits (split.column)"
            problems[f"files of one series with different {what}"].append(names)
            continue
        first = members[0][0]  # its file and line name the series in messages
        out.append({"series_key": key, **source_values(first.row, first.rel)})
    return out


def _by_instance(
    path: Path, good: list[tuple[_Keyed, Instance]], problems: dict[str, list[str]]
) -> list[dict[str, str]]:
    """One row per (instance, frame); ``mask`` checked to exist and kept absolute for now."""
    out = []
    for k, inst in good:
        mask = (k.row.get("mask") or "").strip()
        mask_path = csv_path(path.parent, mask).resolve()
        if not mask or not mask_path.is_file():
            hint = case_hint(path.parent, mask) if mask else ""
            problems["mask file not found"].append(f"{k.rel}: {mask or '(empty)'}{hint}")
            continue
        row = {"instance_key": hash_key(inst.sop_uid), **source_values(k.row, k.rel)}
        out.append({**row, "frame": str(k.frame), "mask": str(mask_path)})
    return out


def _message(path: Path, kind: str, problems: dict[str, list[str]]) -> str:
    total = sum(len(v) for v in problems.values())
    lines = [
        f"{path.name}: {counted(total, 'problem')} with the '{FILE_COLUMN}' column of the "
        f"{kind} CSV (paths relative to data.source or to the CSV's folder; nothing was converted):"
    ]
    for what, items in problems.items():
        shown = "; ".join(items[:_SHOWN])
        more = f"; and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
        lines.append(f"  {what} ({len(items)}): {shown}{more}")
    return "\n".join(lines)


def _columns(path: Path) -> list[str]:
    if not path.is_file():
        raise RadpipeError(f"{shown(path)}: file not found.")
    return next(csv.reader(csv_text(path)), [])


def _read(path: Path) -> list[CsvRow]:
    return list(csv_rows(csv.DictReader(csv_text(path))))


def _write(target: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` atomically; ``mask`` paths become relative to ``target``'s folder."""
    rows = list(rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    for r in rows:
        if "mask" in r:
            r["mask"] = Path(os.path.relpath(r["mask"], target.parent)).as_posix()
    columns = list(dict.fromkeys(c for r in rows for c in r))
    with atomic_path(target) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def check_mask_values(masks: Path, data: DataConfig, shown: str | None = None) -> set[int]:
    """Read every mask file of a masks CSV as class indices before anything is converted,
    so that a mask that cannot be read (see :func:`pipeline.data.io.load_mask`) stops the
    run at once, with every such file listed (the CSV named as ``shown``). Returns the class
    indices found (:func:`workflows.run.seg_classes.read_mask_classes`).

    Raises
    ------
    RadpipeError
        Also for mask files that do not exist, each named by its path below the CSV's folder
        and the line of the image it belongs to (a raw ``FileNotFoundError`` until
        2026-12-03).
    """
    from pipeline.data.io import masks_csv_lines, read_masks_csv
    from workflows.run.seg_classes import read_mask_classes

    listed = read_masks_csv(masks)
    paths = sorted(set(listed.values()))
    base = (data.masks or masks).parent.resolve()
    names = [p.resolve().relative_to(base).as_posix() if p.resolve().is_relative_to(base)
             else p.name for p in paths]  # fmt: skip
    gone = [(n, p) for n, p in zip(names, paths, strict=True) if not p.is_file()]
    if gone:
        lines = masks_csv_lines(masks)
        first = {p: min(lines[k] for k, q in listed.items() if q == p) for _, p in gone}
        said = [f"{n} (line {first[p]})" for n, p in gone]
        more = f"\n  and {len(said) - _SHOWN} more" if len(said) > _SHOWN else ""
        raise RadpipeError(
            f"{shown or masks.name}: {len(gone)} of {len(paths)} mask files named there do "
            "not exist (nothing was converted):\n  " + "\n  ".join(said[:_SHOWN]) + more
        )
    return read_mask_classes(paths, data, shown or masks.name, names=names)
