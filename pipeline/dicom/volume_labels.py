"""What tells the volumes of one series apart, as data: the manifest's ``distinct`` cell.

A series split into several volumes (``_s00``, ``_s01``, ...: echoes, receive coils, two
protocols, time points under ``--split-4d``, acquisitions, image types, planes) had only the
file names and a series-wide note in ``problems``, and a split by EchoTime, coil or
ProtocolName none at all: which file held which echo was told by its values alone. Each
volume now says the attributes whose values differ between the series' volumes and its own
values, ``EchoTime=20`` or ``ReceiveCoilName=H2; ProtocolName=t2_tse``, as dcm2niix's
``_e2``, ``_c2`` name suffixes do, but as data (the file names do not change).

Only header values that are no patient data or UIDs are said: the stack keys
(:data:`~pipeline.dicom.stack_keys.STACK_KEYS`), SeriesNumber, Modality, ImageType,
ConvolutionKernel, the plane (ImageOrientationPatient), image size and PixelSpacing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from pipeline.dicom.stack_keys import RENAMED, STACK_KEYS

__all__ = ["volume_labels"]

_PLANES = ("sagittal", "coronal", "axial")  # the normal along L, P, S (LPS)


def volume_labels(frames: Sequence[Any], volumes: Sequence[Sequence[Sequence[int]]]) -> list[str]:
    """One cell per volume: ``Keyword=value`` of each attribute that differs between volumes.

    Parameters
    ----------
    frames
        The series' :class:`~pipeline.dicom.frames.FrameRef` values.
    volumes
        Each volume's stacks of frame indices (``VolumePlan.frames``).

    Returns
    -------
    list[str]
        ``""`` for each volume of a series of one volume. Volumes that the attributes read
        here leave alike (told apart by where they lie alone: a split at a gap, two stacks)
        say their first and last slice's ``ImagePositionPatient`` (LPS mm); those still
        alike (repeats told apart by acquisition order) their ``InstanceNumber``. An
        attribute that takes several values within a volume (time points of a 4-D volume)
        but another set in another volume is said as ``first..last (n values)``.

    Examples
    --------
    >>> from types import SimpleNamespace as N
    >>> vals = lambda te: (None,) * 7 + (te,) + (None,) * 7  # EchoTime is the 8th stack key
    >>> fs = [N(stack_values=vals(te), source="a", mosaic=0) for te in (10.0, 10.0, 20.0)]
    >>> volume_labels(fs, [[[0, 1]], [[2]]])
    ['EchoTime=10', 'EchoTime=20']
    """
    if len(volumes) < 2:
        return [""] * len(volumes)
    members = [[k for stack in v for k in stack] for v in volumes]
    said: list[list[str]] = [[] for _ in volumes]
    named: set[str] = set()
    for name, value in _attributes(frames):
        found = [{_text(value(frames[k])) for k in m} for m in members]
        if name in named or all(s == found[0] for s in found):
            continue  # the plane said, its cosines are not
        named.add(name)
        for cell, values in zip(said, found):
            cell.append(f"{name}={_values(values)}")
    cells = ["; ".join(cell) for cell in said]
    # told apart by where they lie alone, else by acquisition order alone (repeats)
    for name, where in (("ImagePositionPatient", _positions), ("InstanceNumber", _numbers)):
        extra = [where(frames, v) for v in volumes]
        if len(set(cells)) == len(cells) or None in extra or len(set(extra)) == 1:
            continue
        cells = ["; ".join(filter(None, [c, f"{name}={w}"])) for c, w in zip(cells, extra)]
    return cells


def _numbers(frames: Sequence[Any], volume: Sequence[Sequence[int]]) -> str | None:
    """The volume's InstanceNumbers (``first..last (n values)``), ``None`` if one has none.

    Said of volumes that nothing else tells apart: repeats at the same positions without a
    time, echo or other key, split by acquisition order (``--split-4d``, or without a
    RepetitionTime), whose cells were empty.
    """
    numbers = {getattr(frames[k], "instance_number", None) for stack in volume for k in stack}
    return None if None in numbers else _values({str(n) for n in numbers})


def _positions(frames: Sequence[Any], volume: Sequence[Sequence[int]]) -> str | None:
    """The volume's first and last slice positions (LPS mm, 2 decimals), ``first..last``.

    Said of volumes that no attribute above tells apart: two stacks of one series at other
    places (a split at a gap or uneven spacing, blocks side by side, parallel planes of a
    localizer) had an empty cell, and which ``_sNN`` lay where was told by the files alone.
    """
    stack = volume[0]
    ends = [getattr(frames[k], "position", None) for k in (stack[0], stack[-1])]
    if ends[0] is None or ends[1] is None:
        return None
    first, last = ("\\".join(f"{round(float(v), 2) + 0.0:g}" for v in p or ()) for p in ends)
    return first if first == last else f"{first}..{last}"


def _attributes(frames: Sequence[Any]) -> list[tuple[str, Callable[[Any], Any]]]:
    """``(keyword, value of a frame)`` for each attribute said, in the order shown."""
    out: list[tuple[str, Callable[[Any], Any]]] = [
        ("SeriesNumber", lambda f: getattr(f, "series_number", None)),
        ("Modality", lambda f: getattr(f, "modality", "")),
        ("ImageType", lambda f: getattr(f, "image_kind", "")),
        ("ConvolutionKernel", lambda f: getattr(f, "kernel", "")),
    ]
    out += [(_key_name(frames, j, key), _stack_value(j)) for j, key in enumerate(STACK_KEYS)]
    out += [
        ("ImageOrientationPatient", _plane),
        ("ImageOrientationPatient", lambda f: _rounded(getattr(f, "orientation", None))),
        ("Rows", lambda f: getattr(f, "rows", None)),
        ("Columns", lambda f: getattr(f, "columns", None)),
        ("PixelSpacing", lambda f: _rounded(getattr(f, "pixel_spacing", None))),
    ]
    return out


def _key_name(frames: Sequence[Any], j: int, key: str) -> str:
    """The name a stack key's values are said under.

    An Enhanced frame's value of EchoNumbers is its EffectiveEchoTime (ms), of
    TemporalPositionIdentifier its TemporalPositionIndex, ...
    (:data:`~pipeline.dicom.stack_keys.RENAMED`); both names, ``EchoNumbers/EffectiveEchoTime``,
    where some frames hold the one and some the other.
    """
    if key not in RENAMED:
        return key
    grouped = {key in getattr(f, "group_keys", ()) for f in frames
               if _stack_value(j)(f) not in (None, "")} or {False}  # fmt: skip
    return {frozenset([True]): RENAMED[key], frozenset([False]): key}.get(
        frozenset(grouped), f"{key}/{RENAMED[key]}"
    )


def _stack_value(j: int) -> Callable[[Any], Any]:
    return lambda f: f.stack_values[j] if len(f.stack_values) > j else None


def _plane(f: Any) -> str | None:
    """``axial``, ``coronal`` or ``sagittal``: the axis nearest the slice normal."""
    o = getattr(f, "orientation", None)
    return _plane_of(tuple(o)) if o and len(o) == 6 else None


@lru_cache(maxsize=64)  # a series holds few orientations, and many frames
def _plane_of(o: tuple[float, ...]) -> str:
    normal = np.cross(np.asarray(o[:3], float), np.asarray(o[3:], float))
    return _PLANES[int(np.argmax(np.abs(normal)))]


def _rounded(values: Sequence[float] | None) -> str | None:
    return None if values is None else "\\".join(f"{round(float(v), 4):g}" for v in values)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "\\".join(map(_text, value))
    return str(value)


def _values(values: set[str]) -> str:
    if len(values) == 1:
        return next(iter(values))
    ordered = sorted(values, key=_order)
    return f"{ordered[0]}..{ordered[-1]} ({len(ordered)} values)"


def _order(text: str) -> tuple[int, float, str]:
    try:
        return 0, float(text), text
    except ValueError:
        return 1, 0.0, text
