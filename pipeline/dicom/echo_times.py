"""Echo times that differ only by their rounding are one echo.

A scanner (or a converter between it and the archive) can write one echo's EchoTime
(0018,0081) with other decimals in some slices than in others: ``4.92`` in most, ``4.9201``
or ``4.919999`` in a few. As long as every position held each echo once, the co-located
images were told apart by rank and nothing showed; with an image missing at one position
they were grouped by value, and each echo split into two volumes of some of its slices
(``split: 4 stacks by EchoTime``), its manifest cell ``EchoTime=4.92..4.9201 (2 values)``.
Distinct echoes are at least tenths of a millisecond apart (an echo spacing); values within
:data:`ECHO_TOLERANCE` of the first of their run are taken as one, the most frequent of them
(the smallest among equally frequent) standing for all, before the series is planned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from pipeline.dicom.frame_ref import FrameRef
from pipeline.dicom.stack_keys import STACK_KEYS

__all__ = ["ECHO_TOLERANCE", "same_echoes"]

#: Largest difference (ms) between two EchoTime (or EffectiveEchoTime) values of one echo.
ECHO_TOLERANCE = 0.01

#: The stack keys that hold an echo time: EchoTime, and EchoNumbers (an Enhanced frame's
#: EffectiveEchoTime there; whole echo numbers are 1 apart, never merged).
_KEYS = (STACK_KEYS.index("EchoNumbers"), STACK_KEYS.index("EchoTime"))


def same_echoes(frames: list[FrameRef]) -> list[FrameRef]:
    """``frames`` with echo times within :data:`ECHO_TOLERANCE` of each other made one value.

    Examples
    --------
    >>> from pipeline.dicom.frame_ref import FrameRef
    >>> te = STACK_KEYS.index("EchoTime")
    >>> def at(v):
    ...     values = [None] * len(STACK_KEYS)
    ...     values[te] = v
    ...     return FrameRef("a", 0, "1", 2, 2, None, None, None, stack_values=tuple(values))
    >>> [f.stack_values[te] for f in same_echoes([at(4.92), at(4.9201), at(4.92), at(9.84)])]
    [4.92, 4.92, 4.92, 9.84]
    """
    for j in _KEYS:
        found = Counter(v for f in frames if isinstance(v := _value(f, j), float))
        same = _merged(found)
        if same:
            frames = [_with(f, j, same[v]) if isinstance(v := _value(f, j), float) and v in same
                      else f for f in frames]  # fmt: skip
    return frames


def _merged(found: Counter[float]) -> dict[float, float]:
    """``{value: the value standing for its run}`` for each value that is not its own run's."""
    runs: list[list[float]] = []
    for value in sorted(found):
        if runs and value - runs[-1][0] <= ECHO_TOLERANCE:
            runs[-1].append(value)
        else:
            runs.append([value])
    out = {}
    for run in runs:
        if len(run) > 1:
            chosen = max(run, key=lambda v: (found[v], -v))
            out.update({v: chosen for v in run if v != chosen})
    return out


def _value(f: FrameRef, j: int) -> object:
    return f.stack_values[j] if len(f.stack_values) > j else None


def _with(f: FrameRef, j: int, value: float) -> FrameRef:
    values = list(f.stack_values)
    values[j] = value
    return replace(f, stack_values=tuple(values))
