"""The columns a run reads from its CSVs, checked from their headers before anything runs.

A labels CSV without its key column (``series_uid``/``series_key``/``file``; ``image`` for a
``data.kind: images`` list) or a masks CSV without ``mask`` or its key column was refused only
once the run directory had been made and the source converted (exit 1), in words that did not
say that ``SeriesInstanceUID`` or ``Image`` was there under another spelling. A column that
differs from one radpipe reads only in letter case, spaces, ``_`` or ``-`` (or is the DICOM
keyword of one: ``SeriesInstanceUID``, ``SOPInstanceUID``, ``PatientID``, ``PixelSpacing``) is
named with the column it stands for. Such a spelling of an optional column that changes what
the run does (an images list's ``patient_id``, ``spacing``, ``class_name``; a masks CSV's
``frame``) is refused too: unread, ``Patient_ID`` made each image its own patient, so one
patient's images could be in train and test, without a word.
"""

from __future__ import annotations

import re

__all__ = ["column_problems", "near_columns", "setting_hint"]

#: (data.kind, CSV) -> its key columns (one is needed), and the other columns it must have
_KEYS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("dicom", "labels"): (("series_uid", "series_key", "file"), ()),
    ("dicom", "masks"): (("sop_instance_uid", "instance_key", "file"), ("mask",)),
    ("images", "labels"): (("image",), ()),
}
#: (data.kind, CSV) -> optional columns that change what the run does, and what it does
#: without them: another spelling of one is refused, not left unread
_OPTIONAL: dict[tuple[str, str], dict[str, str]] = {
    ("dicom", "labels"): {"class_name": "the classes are named by their indices"},
    ("dicom", "masks"): {"frame": "every row is frame 0 of its file"},
    ("images", "labels"): {
        "patient_id": "each image is its own patient in the split",
        "class_name": "the classes are named by their indices",
        "spacing": "distances are in pixels",
    },
}
#: squashed DICOM keywords -> the column radpipe reads for them
_KEYWORDS = {"seriesinstanceuid": "series_uid", "sopinstanceuid": "sop_instance_uid",
             "patientid": "patient_id", "pixelspacing": "spacing"}  # fmt: skip


def _squashed(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.lower())


def near_columns(wanted: tuple[str, ...] | list[str], columns: list[str]) -> str:
    """A hint naming the columns of ``columns`` that stand for one of ``wanted`` under another
    spelling (``'Label' for 'label'``); empty when there is none."""
    pairs = [
        f"{c!r} to {w!r}"
        for c in columns
        for w in wanted
        if c != w and w not in columns
        and (_squashed(c) == _squashed(w) or _KEYWORDS.get(_squashed(c)) == w)
    ]  # fmt: skip
    return f" (rename {', '.join(pairs)}: column names are matched exactly)" if pairs else ""


def setting_hint(setting: str, named: str, columns: list[str]) -> str:
    """A hint for a config ``setting`` (``data.label_column``, ``split.column``) that names a
    column the CSV spells otherwise (``Label`` for its ``label``): set it to the CSV's
    spelling first. :func:`near_columns` told the user only to rename the CSV's column, to a
    misspelling in the config, and ``split.column`` got no hint (until 2026-12-03)."""
    near = [c for c in columns if c != named and _squashed(c) == _squashed(named)]
    if not near:
        return ""
    return (f" (set {setting}: {near[0]}, or rename the column {near[0]!r} to {named!r}: "
            "column names are matched exactly)")  # fmt: skip


def column_problems(kind: str, key: str, name: str, columns: list[str]) -> list[str]:
    """The columns the ``key`` CSV (``labels`` or ``masks``) named ``name`` of a ``kind`` run
    lacks, with the columns (``columns``, its stripped header) that look like them."""
    keys, needed = _KEYS.get((kind, key), ((), ()))
    problems = []
    if keys and not any(c in columns for c in keys):
        images = kind == "dicom" and "image" in columns  # a list of image files
        problems.append(
            f"data.{key}: {name} has no {' or '.join(map(repr, keys))} column (columns: "
            f"{', '.join(columns)}){near_columns(keys, columns)}"
            + ("; its 'image' column lists image files: radpipe run trains on PNG, NPY and "
               "NIfTI files with data.kind: images" if images else "")
        )  # fmt: skip
    for column in needed:
        if column not in columns:
            problems.append(f"data.{key}: {name} has no {column!r} column"
                            + near_columns([column], columns))  # fmt: skip
    for column, without in _OPTIONAL.get((kind, key), {}).items():
        hint = near_columns([column], columns)
        if hint:  # unread, the run would go on without it
            problems.append(f"data.{key}: {name} has no {column!r} column{hint}; without it "
                            f"{without}")  # fmt: skip
    return problems
