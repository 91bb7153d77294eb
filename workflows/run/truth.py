"""Labels and masks CSVs keyed by ``file``: resolved through the DICOM headers, checked first.

Most spreadsheets name files, not UIDs. A labels or masks CSV with a ``file`` column (and no
UID or key column) names each DICOM file by its path relative to ``data.source``, or to the
CSV's own folder. :func:`resolve_ground_truth` reads the header of every named file, checks
every key BEFORE anything is converted, and writes the same tables keyed by hashed UIDs into
the run directory (``truth/labels.csv``: ``series_key``; ``truth/masks.csv``: ``instance_key``,
``frame``, ``mask``), which is what the rest of the run reads. All problems are reported
together, with counts: files that do not exist under ``data.source``, files that are not
images with pixel data, files listed more than once, series whose files disagree on the
label, and mask files that do not exist.
"""

from __future__ import annotations

import csv
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.cells import CsvRow, csv_frame, csv_rows, name_lines, refuse_spreadsheet_numbers
from pipeline.data.io import csv_path, csv_text
from pipeline.dicom.files import sanitize
from pipeline.dicom.index import Instance, Problem, instance_from
from pipeline.dicom.reasons import unexpected_failure
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key
from pipeline.words import counted
from workflows.run.config import DataConfig
from workflows.run.paths import shown
from workflows.run.truth_rows import resolved_mask_rows, source_values

log = logging.getLogger("radpipe")

__all__ = [
    "FILE_COLUMN",
    "check_mask_values",
    "is_file_keyed",
    "resolve_ground_truth",
    "segmentation_classes",
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


def _check(
    path: Path, kind: str, source: Path, headers: dict[str, Instance | str], agree: tuple[str, ...]
) -> list[dict[str, str]]:
    rows = _read(path)
    problems: dict[str, list[str]] = defaultdict(list)
    keyed = _locate(path, rows, source, kind, problems)
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
    problems: dict[str, list[str]],
) -> list[_Keyed]:  # fmt: skip
    """Rows whose file exists under ``source``; the rest, and repeats, go to ``problems``."""
    root = source.resolve()
    found: list[_Keyed] = []
    for row in rows:
        name = (row.get(FILE_COLUMN) or "").strip()
        rel = _relative(name, root, path.parent.resolve()) if name else None
        if rel is None:
            problems["not found under data.source"].append(name or f"(empty, line {row.line})")
            continue
        try:
            frame = csv_frame(row.get("frame")) if kind == "masks" else 0
        except ValueError:
            problems["frame not a frame number"].append(f"{name} ({row.get('frame')!r})")
            continue
        found.append(_Keyed(row, rel, frame))
    counts = Counter((k.rel, k.frame) for k in found)
    for (rel, frame), n in sorted(counts.items()):
        if n > 1:
            where = f"{rel} frame {frame}" if kind == "masks" else rel
            problems["listed more than once"].append(f"{where} ({n} rows)")
    return [k for k in found if counts[(k.rel, k.frame)] == 1]


def _relative(name: str, root: Path, csv_dir: Path) -> str | None:
    """``name`` as a path relative to ``root``: taken from ``root``, else from ``csv_dir``."""
    for base in (root, csv_dir):
        candidate = csv_path(base, name).resolve()
        if candidate.is_file() and candidate.is_relative_to(root):
            return candidate.relative_to(root).as_posix()
    return None


def _read_header(path: Path, rel: str) -> Instance | str:
    """The file's header facts, or why it is not an image with pixel data.

    Pixel data are not read: values above 1 KB are skipped over (``defer_size``).
    """
    import warnings

    from pydicom import dcmread

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(path, force=True, defer_size=1024)
    except Exception as err:
        return f"unreadable: {unexpected_failure(err, sanitize(str(err)))}"
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
            problems["mask file not found"].append(f"{k.rel}: {mask or '(empty)'}")
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


def segmentation_classes(found: set[int], data: DataConfig) -> int:
    """The number of segmentation classes, from the class indices ``found`` in the training
    masks (after ``data.mask_values``) or from ``data.class_names``.

    Raises
    ------
    RadpipeError
        When a value is not below the number of class names, when (without class names) the
        values found are not consecutive from 0, or above ``data.max_classes``.
    """
    values = sorted(found)
    if data.class_names:
        k = len(data.class_names)
        if values and values[-1] >= k:
            raise RadpipeError(
                f"The training masks hold class {values[-1]}, but data.class_names names {k} "
                f"classes (0..{k - 1})."
            )
        return k
    k = (values[-1] + 1) if values else 1
    if k > data.max_classes:
        raise RadpipeError(
            f"The training masks hold {k} classes; data.max_classes is {data.max_classes}. "
            "Map the mask values with data.mask_values, or raise data.max_classes."
        )
    if values != list(range(k)):
        raise RadpipeError(
            f"The training masks hold values {values}, not consecutive class indices 0..{k - 1}; "
            "map them with data.mask_values (e.g. {0: 0, 2: 1}) or name every class in "
            "data.class_names."
        )
    return max(k, 2)


def check_mask_values(masks: Path, data: DataConfig, shown: str | None = None) -> int:
    """Read every mask file of a masks CSV as class indices before anything is converted,
    so that a mask that cannot be read (see :func:`pipeline.data.io.load_mask`) stops the
    run at once, with every such file listed (the CSV named as ``shown``). Returns the
    number of mask files read."""
    from pipeline.data.io import load_mask, read_masks_csv

    paths = sorted(set(read_masks_csv(masks).values()))
    problems = []
    for path in paths:
        try:
            load_mask(path, data.mask_values, data.max_classes)
        except RadpipeError as err:
            problems.append(str(err))
    if problems:
        more = f"\n  and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        head = f"{shown or masks.name}: {len(problems)} of {len(paths)} mask files"
        raise RadpipeError(
            f"{head} cannot be read as class indices (nothing was converted):\n  "
            + "\n  ".join(problems[:_SHOWN])
            + more
        )
    return len(paths)


def check_mask_rows(
    masks: Path,
    manifest: list[dict[str, Any]],
    series_keys: Iterable[str],
    shown: str | None = None,
    *,
    own_lines: bool = True,
) -> dict[str, int]:
    """Match the masks CSV with the converted data (its ``manifest`` rows,
    :func:`pipeline.data.io.read_manifest`) once the series to train on (``series_keys``) are
    known, before anything is split or fitted.

    Every image (instance and frame) of those series needs a mask row: one without stops the
    run here, naming its source files (relative paths) and frames. Rows whose image is not in
    the converted data are never used: they are counted and a warning names a few by hashed
    line, or (``own_lines`` false: ``masks`` is the copy radpipe resolved from ``file`` keys)
    by the user's line and file. Returns
    ``{"mask_rows", "mask_rows_not_in_data"}`` for ``provenance.json``.

    Raises
    ------
    RadpipeError
        Some image of the kept series has no row in the masks CSV.
    """
    from pipeline.data.io import masks_csv_lines, read_masks_csv

    listed = read_masks_csv(masks)
    name = shown or masks.name
    kept = set(series_keys)
    images = [r for r in manifest if r["slice_index"] is not None]
    converted = {(r["instance_key"], r["frame"]) for r in images}
    lacking = [r for r in images if r["series_key"] in kept
               and (r["instance_key"], r["frame"]) not in listed]  # fmt: skip
    if lacking:
        named = ", ".join(f"{r['source']} frame {r['frame']}" for r in lacking[:_SHOWN])
        more = f" and {len(lacking) - _SHOWN} more" if len(lacking) > _SHOWN else ""
        total = sum(r["series_key"] in kept for r in images)
        shared = sum("SOPInstanceUID shared" in (r["problems"] or "") for r in lacking)
        why = (f" {shared} of them share their SOPInstanceUID with another file, so neither "
               "is matched by sop_instance_uid: give their masks by the manifest's "
               "instance_key, or remove the copies." if shared else "")  # fmt: skip
        raise RadpipeError(
            f"{name} has no mask row for {len(lacking)} of the {total} converted images to "
            "train and test on (every image of a labelled series needs one, matched by "
            f"sop_instance_uid and frame): {named}{more}.{why}"
        )
    _check_mask_sizes(name, listed, [r for r in images if r["series_key"] in kept])
    unmatched = sorted(k for k in listed if k not in converted)
    if unmatched:
        at = masks_csv_lines(masks) if own_lines else {}
        refuse_spreadsheet_numbers(masks, [at[k] for k in unmatched if k in at], name)
        log.warning(
            "%d of %d rows of %s name an image that is not in the converted data, so their "
            "masks are not used (%s)", len(unmatched), len(listed), name,
            name_lines([at[k] for k in unmatched]) if own_lines else
            resolved_mask_rows(masks, unmatched),
        )  # fmt: skip
    return {"mask_rows": len(listed), "mask_rows_not_in_data": len(unmatched)}


def _check_mask_sizes(
    name: str, listed: dict[tuple[str, int], Path], images: list[dict[str, Any]]
) -> None:
    """Every PNG/NPY mask has its image's rows x columns (the manifest's ``shape``), checked
    from the files' headers before anything is split: all mismatches listed at once."""
    from pipeline.data.masks import stored_mask_shape

    wrong = []
    for r in sorted((r for r in images if r["shape"]), key=lambda r: (r["source"], r["frame"])):
        mask = listed[(r["instance_key"], r["frame"])]
        got, want = stored_mask_shape(mask), tuple(int(v) for v in r["shape"].split("x")[:2])
        if got is not None and got != want:
            wrong.append(f"{mask.name} is {got[0]}x{got[1]}, its image {r['source']} frame "
                         f"{r['frame']} {want[0]}x{want[1]}")  # fmt: skip
    if wrong:
        more = f"\n  and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
        raise RadpipeError(
            f"{name}: {len(wrong)} of {len(images)} masks are not the size of their image "
            "(rows x columns; a mask is drawn on its image's own pixels: not resized, not "
            "cropped, not for another image):\n  " + "\n  ".join(wrong[:_SHOWN]) + more
        )
