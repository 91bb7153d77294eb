"""MONOCHROME1 images held as modality values, told to the user (MONAI Deploy #282).

MONOCHROME1 displays its minimum as white (PS3.3 C.7.6.3.1.2). radpipe inverts it after a
window and in PNG, but NPY without a window holds modality values, as pydicom gives them: next
to MONOCHROME2 images (or windowed ones) its grey scale runs the other way. A run says so when
its training images mix the two (:func:`note_polarity`), and ``predict`` when new images are
of the polarity its model never saw that way (:func:`note_new_polarity`).
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.words import are, counted
from workflows.run.rundir import split_index_values

log = logging.getLogger("radpipe")

__all__ = ["note_new_polarity", "note_polarity", "raw_polarities"]

_GREY = ("MONOCHROME1", "MONOCHROME2")


def raw_polarities(rows: list[dict[str, Any]], index_csv: Path) -> Counter[str]:
    """How many images of each grey PhotometricInterpretation hold modality values.

    ``rows``: a conversion's manifest; ``index_csv``: its ``index.csv`` (``photometric``
    column; an older one without it counts nothing). Modality values: NPY without a window.
    """
    if not index_csv.is_file():
        return Counter()
    with index_csv.open(newline="") as fh:
        kind = {r["path"]: r.get("photometric") or "" for r in csv.DictReader(fh)}
    return Counter(kind.get(r["source"], "") for r in rows
                   if r["window"] == "none" and r["format"] == "npy"
                   and kind.get(r["source"]) in _GREY)  # fmt: skip


def note_polarity(rows: list[dict[str, Any]], index_csv: Path) -> int:
    """Warn when MONOCHROME1 images hold modality values beside images of the other
    polarity (the others' maximum displays white); returns how many such images."""
    raw = raw_polarities(rows, index_csv)["MONOCHROME1"]
    if raw and raw < len(rows):
        log.warning(
            "%d of %d images are MONOCHROME1 (their minimum displays white) converted to "
            "modality values without a window (manifest window 'none'), while the others "
            "display their maximum as white: the model sees their grey scale reversed. Set "
            "convert.window to a preset or C,W (MONOCHROME1 is inverted after it) or "
            "convert.format to png.",
            raw,
            len(rows),
        )
    return raw


def note_new_polarity(run_dir: Path, converted: Path, window: str) -> int:
    """Warn when ``predict`` feeds modality values of a polarity the run's model never saw.

    With ``convert.window: none`` every training image held modality values, so the run's
    ``index.csv`` (its ``photometric`` column, series of ``split.csv``) says which grey
    scales the model knows. New images (the conversion in ``converted``: its manifest and
    ``index.csv``) of the other one (MONOCHROME1 through a model trained on MONOCHROME2
    only, or the reverse) are predicted, and said: returns how many.
    """
    from pipeline.data.io import read_manifest

    if window.strip().lower() != "none":
        return 0
    trained = split_index_values(run_dir, "photometric")
    new = raw_polarities(read_manifest(converted / "manifest.csv"), converted / "index.csv")
    unseen = {kind: n for kind, n in new.items() if kind not in trained}
    if not unseen or not trained & set(_GREY):
        return 0
    for kind, n in sorted(unseen.items()):
        log.warning(
            "%s %s %s held as modality values (convert.window: none), but the run's "
            "model was trained on %s images only: their grey scale runs the other way, so "
            "check these predictions",
            counted(n, "image"),
            are(n),
            kind,
            ", ".join(sorted(k for k in trained if k in _GREY)),
        )
    return sum(unseen.values())
