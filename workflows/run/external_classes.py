"""``radpipe evaluate``: the external set's classes checked against what the run's model knows.

An external set was scored whatever its classes: a mask class the model has no output for
(class 3 for a model of classes 0..2) was counted as missed everywhere, and a class no
training series (mask) held was scored as if the model had learnt it. Now:

- a mask class at or past the model's number of classes refuses the set (its scores would
  mean nothing), naming each mask file and its ``--masks`` CSV lines;
- a class (label or mask class) that no training series of the run held (``train_done.json``
  ``classes_absent_from_training``, ``stages/data.json`` ``trained_classes``) is warned
  about, naming its ``--labels``/``--masks`` lines, and recorded in ``metrics.json``
  (``classes_not_trained``).

Label names the run does not know are refused when the labels are read
(:func:`workflows.run.labels.read_label_table`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.cells import name_lines
from pipeline.errors import RadpipeError
from pipeline.words import counted

__all__ = ["external_mask_classes", "untrained_labels"]

log = logging.getLogger("radpipe")

_SHOWN = 5


def external_mask_classes(
    config: Any, masks: Path, folders: Sequence[Path], shown: str, root: Path | None = None
) -> dict[int, list[str]]:
    """``{class: mask files (with lines)}`` of the external masks CSV ``masks`` for the classes
    no training mask of some fold held (warned); refuses a class the model cannot output.

    ``folders``: every fold's folder (``stages/data.json``); ``shown``: the CSV as messages
    name it; ``root``: the folder its ``mask`` paths are relative to (default its own; a
    ``data.kind: images`` list's: SRC).

    Raises
    ------
    RadpipeError
        A mask holds a class index at or past the model's number of classes.
    """
    from pipeline.data.io import _read_csv, csv_path
    from workflows.run.seg_classes import mask_file_classes

    infos = [json.loads((f / "stages" / "data.json").read_text()) for f in folders]
    k = min(int(i["num_classes"]) for i in infos)
    base = root or masks.parent
    lines: dict[Path, list[int]] = defaultdict(list)
    for row in _read_csv(masks, {"mask"}):  # keyed by UID, instance key or file alike
        if (row["mask"] or "").strip():
            lines[csv_path(base, row["mask"])].append(row.line)
    dicom = config.data.kind == "dicom"  # its masks CSV may name SEGs
    held: dict[Path, set[int]] = {}
    unread = []  # named by path and line, as the run names them (it said the base name alone)
    for path in lines:
        try:
            held[path] = mask_file_classes(path, config.data, seg=dicom)
        except RadpipeError as err:
            said = str(err).removeprefix(f"{path.name}: ")
            unread.append(f"{_rel(path, base)} ({name_lines(lines[path])}): {said}")
    if unread:
        more = f"\n  and {len(unread) - _SHOWN} more" if len(unread) > _SHOWN else ""
        raise RadpipeError(
            f"{shown}: {len(unread)} of {len(lines)} mask files cannot be read as class "
            "indices (nothing was scored):\n  " + "\n  ".join(unread[:_SHOWN]) + more
        )

    def named(paths: list[Path], value: int) -> str:
        each = [f"{_rel(p, base)} ({name_lines(lines[p])}): class {value}" for p in paths]
        more = f"; and {len(each) - _SHOWN} more" if len(each) > _SHOWN else ""
        return "; ".join(each[:_SHOWN]) + more

    beyond = {p: max(c) for p, c in held.items() if c and max(c) >= k}
    if beyond:
        names = config.data.class_names or []
        known = f" ({', '.join(names[:k])})" if len(names) >= k else ""
        raise RadpipeError(
            f"{shown}: {len(beyond)} of {counted(len(held), 'mask')} hold a class the run's "
            f"model cannot output: it has {k} classes, 0..{k - 1}{known} (nothing was scored): "
            + "; ".join(named([p], v) for p, v in list(beyond.items())[:_SHOWN])
            + "; map the values with data.mask_values as the run did, or evaluate with a run "
            "trained on these classes"
        )
    trained = [set(i["trained_classes"]) for i in infos if "trained_classes" in i]
    untrained: dict[int, list[str]] = {}
    for value in range(1, k):
        if trained and any(value not in t for t in trained):
            holders = [p for p, c in held.items() if value in c]
            if holders:
                untrained[value] = [_rel(p, base) for p in holders]
                log.warning(
                    "%s: class %d is in %s, but in no training mask of %s: the model never "
                    "learnt it, so its scores say how a class it was not taught is missed: %s",
                    shown, value, counted(len(holders), "mask"),
                    _which(trained, value), named(holders, value),
                )  # fmt: skip
    return untrained


def untrained_labels(study: Any, folders: Sequence[Path], shown: str) -> dict[str, int]:
    """``{class name: external series}`` of the labelled classes that no training series of
    some fold held (``train_done.json``), each warned about with its CSV lines."""
    absent = []
    for folder in folders:
        done = folder / "train_done.json"
        info = json.loads(done.read_text()) if done.is_file() else {}
        absent.append(set(info.get("classes_absent_from_training") or []))
    table = study.label_table
    found: dict[str, int] = {}
    for index, name in enumerate(study.class_names):
        keys = [r["series_key"] for r in study.split if int(r["label"]) == index]
        if not keys or not any(name in a for a in absent):
            continue
        found[name] = len(keys)
        lines = [table.lines[k] for k in keys if table is not None and k in table.lines]
        where = f" ({name_lines(lines)})" if lines else ""
        log.warning(
            "%s: class %r labels %s%s, but no training series of %s had it: the model never "
            "learnt it, so its rates say how a class it was not taught is missed",
            shown, name, counted(len(keys), "series"), where,
            _which([{n for n in study.class_names if n not in a} for a in absent], name),
        )  # fmt: skip
    return found


def _which(trained: Sequence[set[Any]], value: Any) -> str:
    """``"the run"``, or the folds (``"fold 0, fold 2"``) whose training lacked ``value``."""
    if len(trained) == 1:
        return "the run"
    return ", ".join(f"fold {i}" for i, t in enumerate(trained) if value not in t)


def _rel(path: Path, folder: Path) -> str:
    """``path`` as the user's CSV names it: relative to ``folder``, else its base name."""
    resolved, base = path.resolve(), folder.resolve()
    return resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else path.name
