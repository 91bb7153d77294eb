"""Files a CSV names that are not there: listed before the run, with a word when only the
letter case differs from a file that is.

A masks CSV keyed by UID whose mask cell named no file was refused as ``m0.png: file not
found.``: its base name alone (``p1/m0.png`` and ``p2/m0.png`` read the same), no CSV line.
A CSV written on Windows or macOS, whose file systems ignore letter case, often spells a
name in another case than the file (``Masks/084_hc.png`` for ``masks/084_HC.png``): on a
file system that tells cases apart it is no file, and the message did not say why.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

from pipeline.cells import csv_rows, csv_text, name_lines
from pipeline.data.io import csv_path
from pipeline.words import are, counted

__all__ = ["case_hint", "class_case_hint", "missing_mask_files"]

_SHOWN = 5


def class_case_hint(unknown: list[str], names: list[str]) -> str:
    """``" Letter case differs ('Benign' is 'benign'): class names are case-sensitive."``
    for the label values in ``unknown`` that are a class name of ``names`` but for their
    letter case (a labels file written by hand or by another tool), else ``""``."""
    folded = {n.casefold(): n for n in names}
    cased = [f"{v!r} is {folded[v.casefold()]!r}" for v in unknown if v.casefold() in folded]
    if not cased:
        return ""
    return f" Letter case differs ({'; '.join(cased[:_SHOWN])}): class names are case-sensitive."


def case_hint(base: Path, name: str) -> str:
    """``" (on disk: NAME; names here are case-sensitive)"`` when ``name`` (relative
    to ``base``) is no file but one file under ``base`` has that name in another letter
    case, else ``""``."""
    parts = Path(name.replace("\\", "/")).parts
    folder, found = base, []
    for i, part in enumerate(parts):
        if part in ("", "."):
            continue
        if part == ".." or (folder / part).exists():
            folder = folder / part
            found.append(part)
            continue
        try:
            same = [n for n in os.listdir(folder) if n.casefold() == part.casefold()]
        except OSError:
            return ""
        want_file = i == len(parts) - 1
        same = [n for n in same if (folder / n).is_file() == want_file]
        if len(same) != 1:
            return ""
        folder = folder / same[0]
        found.append(same[0])
    on_disk = Path(*found).as_posix() if found else ""
    if not folder.is_file() or on_disk == Path(name.replace("\\", "/")).as_posix():
        return ""
    return f" (on disk: {on_disk}; names here are case-sensitive)"


def missing_mask_files(masks: Path, columns: list[str]) -> list[str]:
    """A problem listing the ``mask`` cells of the masks CSV ``masks`` (relative to its
    folder) that name no file, each as written with its lines; empty when all are there.

    Returns
    -------
    list of str
        E.g. ``data.masks: 1 mask file named in masks.csv is not a file under its folder
        (hc/): Masks/084_hc.png (line 2) (on disk: masks/084_HC.png; names here are
        case-sensitive)``.
    """
    if "mask" not in columns:
        return []
    found: dict[str, list[int]] = defaultdict(list)
    for row in csv_rows(csv.DictReader(csv_text(masks))):
        name = (row.get("mask") or "").strip()
        if name and not csv_path(masks.parent, name).is_file():
            found[name].append(row.line)
    if not found:
        return []
    listed = [
        f"{name} ({name_lines(lines)}){case_hint(masks.parent, name)}"
        for name, lines in list(found.items())[:_SHOWN]
    ]
    more = f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
    n = len(found)
    return [
        f"data.masks: {counted(n, 'mask file')} named in {masks.name} {are(n)} not "
        f"{'a file' if n == 1 else 'files'} under its folder ({masks.parent.name}/): "
        f"{', '.join(listed)}{more}"
    ]
