"""Co-located images ranked into stacks where some positions hold fewer images than others.

Used by :mod:`pipeline.dicom.colocated`. Time points (or cardiac phases) told apart only by
their order at each position were ranked there: the r-th image of each position joined
stack r. When a position lacks an image (a file lost from the second of three fMRI
volumes), every later image at that position moved up a rank, so the second volume took
the third one's slice there, unsaid. Images at such a position are instead matched to the
stacks by their times: each stack's mean time at the complete positions is its reference,
and the images of a short position take the stacks (in their order) whose references keep
their offsets most alike (one slice's place in each volume's acquisition is the same), or,
for a single image, the stack whose span of times holds it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import combinations, pairwise
from math import comb
from typing import Any

import numpy as np

__all__ = ["rank_with_gaps", "whole_and_partial"]

#: Assignments tried at one short position before the match is called unsure.
_MAX_CHOICES = 5000

#: How much cheaper than every other the chosen assignment must be.
_CLEAR = 0.25


def rank_with_gaps(
    at: dict[int, list[int]],
    order: Callable[[int], Any],
    value: Callable[[int], float | None],
) -> tuple[list[list[int]], int]:
    """Stack r holds the r-th image of each complete position, and matched images elsewhere.

    ``at`` maps each position to its images, ``order`` ranks them, ``value`` is each image's
    time (seconds, ms or an InstanceNumber: any number that grows with acquisition). Returns
    the stacks and how many short positions could not be matched (their images ranked in
    order, as before: the first stacks take them).
    """
    depth = max(len(found) for found in at.values())
    rank: dict[int, list[int]] = defaultdict(list)
    for found in (f for f in at.values() if len(f) == depth):
        for r, k in enumerate(sorted(found, key=order)):
            rank[r].append(k)
    spans = _spans(rank, depth, value)
    unsure = 0
    for found in (f for f in at.values() if len(f) < depth):
        images = sorted(found, key=order)
        xs = [value(k) for k in images]
        choice = None
        if spans is not None and all(x is not None for x in xs):
            choice = _match([float(x) for x in xs], spans)  # type: ignore[arg-type]
        if choice is None:
            unsure += 1
            choice = tuple(range(len(images)))
        for r, k in zip(choice, images, strict=True):
            rank[r].append(k)
    return [rank[r] for r in sorted(rank)], unsure


def _spans(
    rank: dict[int, list[int]], depth: int, value: Callable[[int], float | None]
) -> list[tuple[float, float, float]] | None:
    """Each stack's (mean, lowest, highest) value at the complete positions, else ``None``."""
    if len(rank) < depth:  # no position holds every stack
        return None
    spans = []
    for r in range(depth):
        found = [value(k) for k in rank[r]]
        if any(v is None for v in found):
            return None
        xs = [float(v) for v in found]  # type: ignore[arg-type]
        spans.append((sum(xs) / len(xs), min(xs), max(xs)))
    means = [s[0] for s in spans]
    if any(b <= a for a, b in pairwise(means)):
        return None  # the values do not follow the stacks' order
    return spans


def _match(
    xs: Sequence[float], spans: Sequence[tuple[float, float, float]]
) -> tuple[int, ...] | None:
    """The stacks (increasing) that ``xs`` (increasing) belong to, or ``None`` when unsure.

    A choice costs the farthest of its images from its stack's span of values, plus the
    spread of their offsets from the stacks' means (a slice keeps its place in each volume's
    acquisition). The cheapest is taken when it is under half the closest two
    stacks' distance and under a quarter of the next cheapest. An image outside every span (the
    slice acquired first or last) about as far from two stacks leaves it unsure; shifting a
    whole choice by one stack keeps the offsets alike, so the spans decide.
    """
    n, m = len(spans), len(xs)
    if comb(n, m) > _MAX_CHOICES:
        return None
    gap = min(b[0] - a[0] for a, b in pairwise(spans))
    scored = []
    for choice in combinations(range(n), m):
        outside = max(max(spans[r][1] - x, x - spans[r][2], 0.0)
                      for x, r in zip(xs, choice, strict=True))  # fmt: skip
        offsets = [x - spans[r][0] for x, r in zip(xs, choice, strict=True)]
        scored.append((outside + max(offsets) - min(offsets), choice))
    scored.sort()
    best, second = scored[0][0], scored[1][0] if len(scored) > 1 else float("inf")
    if best >= 0.5 * gap or best >= _CLEAR * second:
        return None
    return scored[0][1]


def whole_and_partial(
    stacks: list[list[int]],
    same: Callable[[list[list[int]]], bool],
    position: Callable[[int], Sequence[float] | None],
) -> tuple[list[list[int]], list[list[int]]]:
    """Stacks (time points) holding every position, and those holding only some of them.

    An interrupted fMRI run ends in a time point with fewer slices (dcm2niix #515, #742,
    #987): as their positions differ, every time point was written as a 3-D volume of its
    own (hundreds of files for one run). The whole ones can still be one 4-D volume. ``same``
    tells whether stacks cover the same positions (each sorted along the normal);
    ``position`` is a frame's position. ``([], [])`` unless two stacks or more are whole and
    every other lies at positions of theirs.
    """
    most = max(len(s) for s in stacks)
    whole = [s for s in stacks if len(s) == most]
    partial = [s for s in stacks if len(s) < most]
    placed = [position(k) for s in stacks for k in s]
    if len(whole) < 2 or not partial or None in placed or not same(whole):
        return [], []
    ref = np.array([position(k) for k in whole[0]], dtype=np.float64)
    for s in partial:
        nearest = [int(np.argmin(np.linalg.norm(ref - np.asarray(position(k), float), axis=1)))
                   for k in s]  # fmt: skip
        if len(set(nearest)) < len(s) or not same([[whole[0][j] for j in nearest], s]):
            return [], []
    return whole, partial
