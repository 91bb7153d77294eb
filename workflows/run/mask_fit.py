"""Whether the classes of a segmentation's masks make a label map the run can train, said
before the run starts with the masks (and CSV lines) that hold the values at fault.

:func:`workflows.run.seg_classes.segmentation_classes` refuses the same sets once the data are
split (a class beyond ``data.class_names``; values not consecutive from 0), but by then the
run directory was made, and the message named no mask: "The training masks hold values [1,
2], not consecutive class indices 0..2". Masks labelled from 1 (1 background, 2 foreground;
or 1 and 2 for two structures, background 0 never drawn) are the usual cause.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.cells import name_lines
from pipeline.words import are, counted
from workflows.run.config import DataConfig

__all__ = ["beyond_class_names", "beyond_max_classes", "mask_class_problems"]

_SHOWN = 5


def mask_class_problems(
    classes: Mapping[str, set[int]],
    lines: Mapping[str, list[int]],
    data: DataConfig,
    csv_name: str,
    *,
    key: str = "data.labels",
    before: str = "run",
) -> list[str]:
    """A problem when the masks' classes do not fit ``data.class_names`` or (without names)
    do not count from 0 without a gap; empty when they do.

    Parameters
    ----------
    classes
        Each mask as the list CSV writes it, with the class indices it holds (after
        ``data.mask_values``).
    lines
        The CSV lines of each mask.
    data, csv_name
        The run's ``data`` settings; the list CSV's name, for the message.
    key, before
        The setting that names the CSV (a DICOM run's ``data.masks``) and what has not been
        done yet (``converted``), for the message.

    Examples
    --------
    >>> from workflows.run.config import DataConfig
    >>> data = DataConfig(source="x")
    >>> mask_class_problems({"m.png": {1, 2}}, {"m.png": [2]}, data, "l.csv")[0][:87]
    'data.labels: no mask named in l.csv holds class 0 (background): their values are [1, 2]'
    """
    found = sorted(set().union(*classes.values()))
    if not found:
        return []
    if data.class_names:
        top = {n: max(c) for n, c in classes.items() if c}
        said = beyond_class_names(top, data, f"data.labels ({csv_name})", "run", lines)
        return [said] if said else []
    missing = [v for v in range(found[-1] + 1) if v not in found]
    if not missing:
        return []
    top = {n: found[-1] for n, c in classes.items() if found[-1] in c}
    if missing[0] == 0:
        return [
            f"{key}: no mask named in {csv_name} holds class 0 (background): their "
            f"values are {found} (nothing was {before}); class indices count from 0, background "
            "first, so masks labelled from 1 make a class no pixel has. If "
            f"{found[0]} is the background, map the values with data.mask_values, e.g. "
            f"{_example(found)}; if no pixel is background, name every class in "
            f"data.class_names. Value {found[-1]} is in {_holders(top, lines)}"
        ]
    return [
        f"{key}: the masks named in {csv_name} hold values {found}, and none holds "
        f"{', '.join(map(str, missing))}: not consecutive class indices 0..{found[-1]} "
        f"(nothing was {before}); map them with data.mask_values, e.g. {_example(found)}, or name "
        f"every class in data.class_names. Value {found[-1]} is in {_holders(top, lines)}"
    ]


def beyond_class_names(
    top: Mapping[str, int],
    data: DataConfig,
    where: str,
    before: str,
    lines: Mapping[str, list[int]] | None = None,
) -> str | None:
    """The one message for masks holding a class index past ``data.class_names`` (``None``
    when none does, or without class names), for an images run's list and a DICOM run's
    masks CSV alike (``radpipe run`` and ``radpipe evaluate --masks``).

    Parameters
    ----------
    top
        Each mask (as the CSV names it) with the highest class index it holds.
    data
        The run's ``data`` settings.
    where, before
        The CSV as the message names it; what was not done (``"run"``, ``"converted"``).
    lines
        The CSV lines of each mask, when known.

    Examples
    --------
    >>> from workflows.run.config import DataConfig
    >>> data = DataConfig(source="x", class_names=["background", "lesion"])
    >>> beyond_class_names({"a.png": 1, "b.png": 2}, data, "m.csv", "run")[:80]
    'm.csv: 1 of 2 masks holds a class beyond data.class_names, which names 2 classes'
    """
    if not data.class_names:
        return None
    k = len(data.class_names)
    limit = f"data.class_names, which names {k} classes (0..{k - 1}: " + ", ".join(
        data.class_names
    ) + ")"  # fmt: skip
    advice = ("name every class in data.class_names (background first), or map the stored "
              "values onto them with data.mask_values")  # fmt: skip
    return _beyond(top, k, where, limit, f"(nothing was {before}): ", lines, advice)


def beyond_max_classes(top: Mapping[str, int], data: DataConfig, where: str) -> str | None:
    """The message for DICOM SEGs holding a segment number at or past ``data.max_classes``
    (no ``data.class_names``: with names, :func:`beyond_class_names` says it); ``None`` when
    none does.

    A SEG's segment number N is class N: segment 255 is not the foreground of a binary 0/255
    image mask, and no class index reaches 255 (``data.max_classes`` is at most 255).

    Examples
    --------
    >>> from workflows.run.config import DataConfig
    >>> beyond_max_classes({"s.dcm": 255}, DataConfig(source="x"), "m.csv")[:71]
    'm.csv: 1 of 1 mask holds a class beyond data.max_classes (32: classes 0'
    """
    k = data.max_classes
    advice = ("a DICOM SEG's segment number N is class N (segment 255 is no binary "
              "foreground): map the segment numbers onto classes with data.mask_values, or "
              "name the classes in data.class_names and raise data.max_classes")  # fmt: skip
    limit = f"data.max_classes ({k}: classes 0..{k - 1})"
    return _beyond(top, k, where, limit, "(nothing was converted): ", None, advice)


def _beyond(
    top: Mapping[str, int], k: int, where: str, limit: str, before: str,
    lines: Mapping[str, list[int]] | None, advice: str,
) -> str | None:  # fmt: skip
    """The masks of ``top`` holding a class ``k`` or more, said past ``limit``; else None."""
    beyond = {n: v for n, v in top.items() if v >= k}
    if not beyond:
        return None
    return (f"{where}: {len(beyond)} of {counted(len(top), 'mask')} "
            f"{are(len(beyond), 'holds', 'hold')} a class beyond {limit} {before}"
            f"{_holders(beyond, lines)}; {advice}")  # fmt: skip


def _holders(values: Mapping[str, int], lines: Mapping[str, list[int]] | None) -> str:
    """The first masks holding a value, each with its lines (when known) and the value."""
    shown = [f"{name}{f' ({name_lines(lines[name])})' if lines else ''}: class {v}"
             for name, v in list(values.items())[:_SHOWN]]  # fmt: skip
    more = f"; and {len(values) - _SHOWN} more" if len(values) > _SHOWN else ""
    return "; ".join(shown) + more


def _example(found: list[int]) -> str:
    """A ``data.mask_values`` that makes ``found`` consecutive from 0, in their order."""
    return "{" + ", ".join(f"{v}: {i}" for i, v in enumerate(found)) + "}"
