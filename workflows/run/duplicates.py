"""Byte-identical images in different parts of a split: the same picture seen in training and
scored as unseen.

A patient-level split keeps one patient's series together, but the same images can come back
under another patient or UID: a study exported twice and anonymised twice (new PatientID, new
UIDs), a file copied into two folders of an images list. Such a copy in the test split is no
unseen case: its figures measure memory. :func:`note_duplicates` compares the files each sample
reads (the run's converted outputs, or an images run's own files), by size first and then by
content hash, and warns with the count and an example pair, named by the files a user has (the
DICOM file a converted output came from, relative to ``data.source``; an images run's own file
as its CSV gives it), so that the copies can be found and removed; the run goes on. Blank
images (one value everywhere) are alike in any two studies and are not counted.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.data.io import csv_path, load_array, read_manifest
from pipeline.dicom.files import escape_name
from pipeline.errors import RadpipeError

__all__ = ["note_duplicates", "note_study_duplicates"]

log = logging.getLogger("radpipe")


def note_study_duplicates(study: Any) -> int:
    """:func:`note_duplicates` over the files the samples of ``study`` read (the run's
    converted outputs, or an images run's own files), named by the files the user has."""
    files, names = _sample_files(study)
    return note_duplicates(study.split, files, study.kind, names)


def _sample_files(study: Any) -> tuple[dict[str, list[Path]], dict[Path, str]]:
    """``{series key (images run: image key): [files its samples read]}`` and ``{file read:
    the file the user has}``, from one read of the manifest: the source DICOM file of a
    converted output (the manifest's ``source``, relative to ``data.source``, with its frame
    when not 0), an images run's file as its CSV names it; control characters escaped."""
    files: dict[str, list[Path]] = defaultdict(list)
    names: dict[Path, str] = {}
    if study.kind == "dicom":
        for r in read_manifest(study.root / "manifest.csv"):
            path = study.root / r["output"]
            files[r["series_key"]].append(path)
            frame = f" frame {r['frame']}" if r.get("frame") else ""
            names[path] = f"{r['source']}{frame}"
    else:
        for key, rows in study.image_rows.items():
            for r in rows:
                path = csv_path(study.root, r["image"])
                files[key].append(path)
                names[path] = escape_name(r["image"])
    return dict(files), names


def note_duplicates(
    split: list[dict[str, Any]],
    files: dict[str, list[Path]],
    kind: str = "dicom",
    names: dict[Path, str] | None = None,
) -> int:
    """Warn about files of one part of ``split`` byte-identical to files of another part.

    Parts are ``(split, fold)``: train, val, test, and each fold of a k-fold split; ``kind``
    is the study's (``dicom``: keys are series, ``images``: images); ``names`` gives the file
    the user has for each file read (as :func:`note_study_duplicates` gives them): the example
    pair is named by those (a key alone could not be found in the data to remove the copy).
    Returns the number of files that have a twin in another part (0: nothing said).
    """
    part = {r["series_key"]: (str(r["split"]), int(r.get("fold", -1))) for r in split}
    groups: dict[Any, list[tuple[Path, str]]] = defaultdict(list)
    for key, paths in files.items():
        for path in paths if key in part else []:
            if path.is_file():
                groups[path.stat().st_size].append((path, key))
    # size, then the middle 64 KiB (volumes of one shape share a size, and their first rows
    # are often the same air or padding), then the whole file: each narrowing only within
    # groups that span two parts
    for head in (_HEAD, None):
        narrowed: dict[Any, list[tuple[Path, str]]] = defaultdict(list)
        for group, items in groups.items():
            if len({part[key] for _, key in items}) > 1:  # in one part only: no twin
                for path, key in items:
                    narrowed[(group, _digest(path, head))].append((path, key))
        groups = narrowed
    twins = [
        items
        for items in groups.values()
        if len({part[key] for _, key in items}) > 1 and not _constant(items[0][0])
    ]
    if not twins:
        return 0
    count = sum(len(items) for items in twins)
    first = sorted(twins[0], key=lambda item: str(item[0]))
    a = first[0]
    b = next(item for item in first if part[item[1]] != part[a[1]])
    log.warning(
        "%d image files are byte-identical to files in another part of the split (%s in %s "
        "= %s in %s): the same pictures under another patient or UID (a study exported twice, "
        "a copied file); a copy in the test split is no unseen case, and its figures are "
        "optimistic. Remove the copies from the data.",
        count, _file(a, kind, names), _name(part[a[1]]), _file(b, kind, names),
        _name(part[b[1]]),
    )  # fmt: skip
    return count


def _file(item: tuple[Path, str], kind: str, names: dict[Path, str] | None) -> str:
    """``series KEY (source.dcm)`` or, for an images run, the file itself (``img/a.png``)."""
    path, key = item
    name = (names or {}).get(path)
    if kind == "images":
        return name or f"image {key}"
    return f"series {key} ({name})" if name else f"series {key}"


_HEAD = 1 << 16


def _digest(path: Path, size: int | None) -> str:
    """blake2b of the ``size`` bytes in the middle of the file (``None``: all of it)."""
    with path.open("rb") as fh:
        if size is None:
            data = fh.read()
        else:
            fh.seek(max(0, (fh.seek(0, 2) - size) // 2))
            data = fh.read(size)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _constant(path: Path) -> bool:
    """An image of one value (a blank slice or frame): alike in any two studies, no copy."""
    try:
        values = load_array(path)
    except RadpipeError:
        return False
    return bool(values.size) and bool(values.min() == values.max())


def _name(where: tuple[str, int]) -> str:
    split, fold = where
    return f"fold {fold}" if split == "train" and fold >= 0 else split
