"""The classes of a segmentation run: from every mask of the study, not the training ones only.

The number of classes was taken from the training masks alone. A class drawn only in
validation or test masks (a rare lesion that fell outside the training split) made a model
with one output too few: validation stopped training with torch's ``IndexError: Target 2 is
out of bounds``. Every mask is read as class indices before training anyway (a DICOM run's
masks CSV up front, an images run's list now too): the classes are those of all of them, and
a class that no training mask holds is said, as for classification (its model cannot learn
it; the validation and test masks that have it score it).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.data.masks import mask_classes
from pipeline.dicom.seg_masks import held_segments, is_dicom_file
from pipeline.errors import RadpipeError
from pipeline.memo import MAX_FILES, keep, used
from workflows.run.config import DataConfig, RunConfig
from workflows.run.mask_fit import beyond_class_names

__all__ = [
    "mask_file_classes",
    "note_untrained_classes",
    "read_mask_classes",
    "run_classes",
    "segmentation_classes",
]

log = logging.getLogger("radpipe")

_SHOWN = 10


def read_mask_classes(
    paths: Sequence[Path],
    data: DataConfig,
    shown: str,
    *,
    before: str = "converted",
    names: Sequence[str] | None = None,
) -> set[int]:
    """The class indices in the mask files ``paths`` (after ``data.mask_values``), read
    before anything is ``before`` (a DICOM run's conversion; an images run's training).
    ``names``: each path as the CSV gives it, which a problem names it by instead of its base
    name (an images list's ``p1/m.png`` and ``p2/m.png`` were both ``m.png``).

    Raises
    ------
    RadpipeError
        Listing every file that cannot be read as class indices (``shown``: the CSV).
    """
    found: set[int] = set()
    problems = []
    top: dict[str, int] = {}  # each readable file's highest class index
    for i, path in enumerate(paths):
        name = names[i] if names is not None else path.name
        try:
            values = sorted(mask_file_classes(path, data))
        except RadpipeError as err:
            said = str(err)
            if names is not None and said.startswith(f"{path.name}: "):
                said = name + said[len(path.name) :]
            problems.append(said)
            continue
        found.update(values)
        top[name] = values[-1]
    if problems:
        more = f"\n  and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise RadpipeError(
            f"{shown}: {len(problems)} of {len(paths)} mask files cannot be read as class "
            f"indices (nothing was {before}):\n  " + "\n  ".join(problems[:_SHOWN]) + more
        )
    beyond = beyond_class_names(top, data, shown, before)
    if beyond:
        raise RadpipeError(beyond)
    return found


#: At most this many files' classes are kept (see :data:`pipeline.memo.MAX_FILES`; a process
#: that checks many studies grew it without bound).
MAX_READ = MAX_FILES
#: The classes of each mask file read in this process, by file (its resolved path, change time
#: and size) and class map, least recently used first: the check before the run and the study
#: read the same masks.
_READ: OrderedDict[tuple[Any, ...], frozenset[int]] = OrderedDict()


def mask_file_classes(path: Path, data: DataConfig, *, seg: bool = False) -> set[int]:
    """The class indices in the mask file ``path`` (after ``data.mask_values``), decoded once
    per process while the file is unchanged. ``seg``: a DICOM file is a SEG (a DICOM run's
    masks CSV, :mod:`workflows.run.seg_rows`), its classes the segments that hold a pixel.

    Raises
    ------
    RadpipeError
        As :func:`pipeline.data.io.load_mask`, naming the file by its base name.
    """
    from pipeline.data.io import load_mask

    stat = path.stat()
    values = tuple(sorted((data.mask_values or {}).items()))
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, values, data.max_classes)
    if used(_READ, key):
        return set(_READ[key])
    if seg and is_dicom_file(path):  # the segment numbers it holds
        held = np.asarray(sorted(held_segments(path, path.name) | {0}))
        found = mask_classes(held, path.name, data.mask_values, data.max_classes)
    else:
        found = load_mask(path, data.mask_values, data.max_classes)
    classes: frozenset[int] = keep(
        _READ, key, frozenset(int(v) for v in np.unique(found)), MAX_READ
    )
    return set(classes)


def note_untrained_classes(
    trained: set[int],
    num_classes: int,
    names: Sequence[str],
    fold: str | None,
    found: set[int] | None = None,
) -> list[int]:
    """Warn about the foreground classes (below ``num_classes``) that no training mask holds
    (``fold``: the fold folder's name, ``None`` without folds); returns them. ``found``: the
    classes of every mask of the data, when known: a class none of them holds (only
    ``data.class_names`` names it) is said as such, not as held by other masks."""
    absent = [k for k in range(1, num_classes) if k not in trained]
    nowhere = [k for k in absent if found is not None and k not in found]
    for group, held in ((nowhere, False), ([k for k in absent if k not in nowhere], True)):
        if not group:
            continue
        where = "the training split" if fold is None else f"{fold}'s training split"
        shown = ", ".join(f"{k} ({names[k]!r})" if k < len(names) else str(k) for k in group)
        words = ("it", "it", "it", "it") if len(group) == 1 else ("them",) * 4
        if not held:
            log.warning(
                "no mask of the data holds class %s, which data.class_names names: its model "
                "cannot learn %s and no mask scores %s (masks saved 0/255 are read as 0/1); "
                "check data.class_names and data.mask_values", shown, *words[:2],
            )  # fmt: skip
            continue
        log.warning(
            "no mask of %s holds class %s, which other masks of the data hold: its model "
            "cannot learn %s (it keeps an output for %s, and the masks that have %s score "
            "it); add cases with %s to the training split or use fewer folds", where, shown,
            *words,
        )  # fmt: skip
    return absent


def run_classes(config: RunConfig, study: Any, raw: list[Any], fold: str | None) -> dict[str, Any]:
    """``stages/data.json``'s ``num_classes`` of the run's model: its class names
    (classification), or the classes of every mask of the data (``study.mask_classes``) and
    of the training samples ``raw`` (segmentation), those missing from the training masks
    said; and a segmentation's ``trained_classes`` (those its training masks hold, which
    ``radpipe evaluate`` checks an external set's masks against)."""
    if config.task == "classification":
        return {"num_classes": len(study.class_names)}
    found = {int(v) for s in raw if s.mask is not None for v in np.unique(s.mask)}
    k = segmentation_classes(found | set(study.mask_classes), config.data, trained=found)
    names = config.data.class_names or ["background", *[f"class{i}" for i in range(1, k)]]
    note_untrained_classes(found, k, names, fold, found=found | set(study.mask_classes))
    return {"num_classes": k, "trained_classes": sorted(found)}


def segmentation_classes(found: set[int], data: DataConfig, trained: set[int] | None = None) -> int:
    """The number of segmentation classes, from the class indices ``found`` in the masks
    (after ``data.mask_values``) or from ``data.class_names``; ``trained``: those of the
    training masks (``None``: ``found`` are), which the errors tell from the others.

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
                f"{_whose({values[-1]}, trained)} hold class {values[-1]}, but data.class_names "
                f"names {k} classes (0..{k - 1})."
            )
        return k
    k = (values[-1] + 1) if values else 1
    if k > data.max_classes:
        raise RadpipeError(
            f"{_whose({values[-1]}, trained)} hold {k} classes; data.max_classes is "
            f"{data.max_classes}. Map the mask values with data.mask_values, or raise "
            "data.max_classes."
        )
    if values != list(range(k)):
        raise RadpipeError(
            f"{_whose(set(values), trained)} hold values {values}, not consecutive class "
            f"indices 0..{k - 1}; map them with data.mask_values (e.g. {{0: 0, 2: 1}}) or name "
            "every class in data.class_names."
        )
    return max(k, 2)


def _whose(values: set[int], trained: set[int] | None) -> str:
    """Which masks hold ``values``: the training ones, or (some of them) only the others."""
    other = sorted(values - trained) if trained is not None else []
    if not other:
        return "The training masks"
    only = ", ".join(map(str, other))
    return f"The masks (value {only} in validation or test masks only, in no training mask)"
