"""Output numbers of a series' volumes that a failed file does not shift.

A series of several volumes (SeriesNumbers, orientations, echoes) writes ``<series>_sNN``,
``NN`` the volume's place in the series. A file left out (it failed on its header or its
pixels, and was a volume of its own or repeated a slice: :mod:`workflows.convert.series_retry`)
took its place with it: the next volumes were numbered one lower (``_s02`` written as
``_s01``), or a series of two volumes lost its suffix, and a rerun after the file was mended
renamed them back. Now the volumes are numbered as the series' every file, the files left out
included, would number them (their headers read without their pixels); only when the files
left out cannot be placed at all (no header) are the volumes numbered among themselves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

__all__ = ["stable_stacks"]


def stable_stacks(plan: Any, task: Any, policy: Any) -> list[int]:
    """Each volume of ``plan`` (:class:`~pipeline.dicom.assemble.SeriesPlan`): its number in
    its output's name, ``-1`` for the one volume of a series that has one.

    ``task.left_out``: the series' files in no volume because they failed; the numbers are the
    volumes' places among those the files would make with them.
    """
    alone = [-1] if len(plan.volumes) == 1 else list(range(len(plan.volumes)))
    extra = [f for s in getattr(task, "left_out", ()) for f in _header_frames(task.src_root, s)]
    if not extra:
        return alone
    from pipeline.dicom.assemble import plan_series

    try:
        full = plan_series([*plan.frames, *extra], policy)
    except Exception:  # the names fall back to the volumes' own order
        return alone
    where = {(full.frames[k].source, full.frames[k].frame): n
             for n, v in enumerate(full.volumes) for t in v.frames for k in t}  # fmt: skip
    firsts = [plan.frames[v.frames[0][0]] for v in plan.volumes]
    numbers = [where.get((f.source, f.frame)) for f in firsts]
    if full.refusal or None in numbers or len(set(numbers)) < len(numbers):
        return alone
    return [-1] if len(full.volumes) == 1 else [int(n) for n in numbers if n is not None]


def _header_frames(root: str, source: str) -> Sequence[Any]:
    """The frames the header of ``source`` names (its pixels not read), ``[]`` when none."""
    from pipeline.dicom.files import Problem
    from pipeline.dicom.frames import frame_refs
    from pipeline.dicom.header import read_dataset

    ds = read_dataset(os.path.join(root, source), source)
    if isinstance(ds, Problem):
        return []
    try:
        found = frame_refs(ds, source)
    except Exception:  # a header that names no frame places nothing
        return []
    return [f for f in found if not f.refusal]
