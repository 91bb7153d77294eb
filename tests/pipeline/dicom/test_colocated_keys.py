"""Co-located frames told apart by one stack key: the orders worked out by hand.

:func:`pipeline.dicom.colocated.colocated_stacks` on frames built directly: three frames
at two positions along the normal (two at 0 mm, one at 2 mm).
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom.colocated import colocated_stacks
from pipeline.dicom.frames import STACK_KEYS, FrameRef

TRIGGER = STACK_KEYS.index("TriggerTime")


def _frames(values: list[Any]) -> list[FrameRef]:
    out = []
    for k, value in enumerate(values):
        keyed: list[Any] = [None] * len(STACK_KEYS)
        keyed[TRIGGER] = value
        out.append(FrameRef(f"{k}.dcm", 0, f"1.{k}", 2, 2, None, None, None,
                            stack_values=tuple(keyed)))  # fmt: skip
    return out


DIST = {0: 0.0, 1: 0.0, 2: 2.0}  # frames 0 and 1 share a position


def test_drifting_values_at_uneven_positions_make_one_stack_per_value() -> None:
    # three trigger times over positions of 2 and 1 frames: not the same count at every
    # position, so no ranking per position; one stack per value, in value order
    stacks, how = colocated_stacks(_frames([10.0, 20.0, 15.0]), [0, 1, 2], DIST)
    assert (stacks, how) == ([[0], [2], [1]], "TriggerTime")


def test_numbers_sort_before_text_and_by_value() -> None:
    stacks, _ = colocated_stacks(_frames([10.0, "A", 2.0]), [0, 1, 2], DIST)
    assert stacks == [[2], [0], [1]]  # 2 before 10 (not as text), "A" after the numbers
