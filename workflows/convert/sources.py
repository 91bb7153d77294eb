"""``sources.csv`` of a per-series conversion: every file of every written volume, and the
output slices it became (the file-to-slice map dcm2niix users ask for, rordenlab/dcm2niix#341).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: ``sources.csv`` (``--per series``): every file of every written volume.
SOURCE_COLUMNS = [
    "source", "output", "patient_key", "series_key", "instance_key", "frame", "slices",
]  # fmt: skip


def source_slices(plan: Any, volume: Any) -> dict[str, tuple[int, str, str]]:
    """Per source file of one :class:`~pipeline.dicom.volume_plan.VolumePlan`, in slice order:
    its first frame used, its SOPInstanceUID and the output slices its frames became.

    Slices are 0-based along the volume's third (slice) axis, ``T:K`` for time point T of a
    4-D volume, runs written ``a-b``; empty when the volume was resampled along its normal
    (every output slice is interpolated; the manifest's ``problems`` column says so).
    """
    found: dict[str, tuple[int, str, list[tuple[int, int]]]] = {}
    for t, frames in enumerate(volume.frames):
        for k, idx in enumerate(frames):
            ref = plan.frames[idx]
            first, uid, slices = found.setdefault(ref.source, (ref.frame, ref.sop_uid, []))
            slices.append((t, k))
            found[ref.source] = (min(first, ref.frame), uid, slices)
    four_d = len(volume.frames) > 1
    return {
        source: (frame, uid, "" if volume.grid is not None else _runs(slices, four_d))
        for source, (frame, uid, slices) in found.items()
    }


def _runs(slices: list[tuple[int, int]], four_d: bool) -> str:
    """``[(0, 3), (0, 4), (0, 5)]`` -> ``"3-5"`` (``"0:3-5"`` in a 4-D volume)."""
    parts: list[str] = []
    start = prev = slices[0]
    for cur in [*slices[1:], None]:
        if cur is not None and cur[0] == prev[0] and cur[1] == prev[1] + 1:
            prev = cur
            continue
        span = f"{start[1]}" if start == prev else f"{start[1]}-{prev[1]}"
        parts.append(f"{start[0]}:{span}" if four_d else span)
        if cur is not None:
            start = prev = cur
    return ";".join(parts)


def dropped_sources(
    sources: Sequence[str], rows: Sequence[dict[str, str]]
) -> tuple[tuple[str, str], ...]:
    """Files of a series (``sources``) in none of its ``sources.csv`` ``rows``: every frame
    was an exact duplicate."""
    from pipeline.dicom.files import escape_name

    listed = {r["source"] for r in rows}
    reason = "duplicate: every frame repeats an image at the same position; dropped"
    return tuple((escape_name(s), reason) for s in sources if escape_name(s) not in listed)
