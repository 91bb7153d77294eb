"""``sources.csv`` of a per-series conversion: every frame of every file of every written
volume, and the output slice it became (the file-to-slice map dcm2niix users ask for,
rordenlab/dcm2niix#341).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: ``sources.csv`` (``--per series``): one row per frame of every written volume.
SOURCE_COLUMNS = [
    "source", "output", "patient_key", "series_key", "instance_key", "frame", "slice",
]  # fmt: skip

#: How ``errors.csv`` ends the reason of a failed file its series was converted without (a
#: rerun keeps that series, and lists the file again).
LEFT_OUT = "(its series converted without it)"


def frame_slices(plan: Any, volume: Any) -> list[tuple[str, int, str, str]]:
    """Every frame of one :class:`~pipeline.dicom.volume_plan.VolumePlan` in slice order, as
    ``(source, frame, SOPInstanceUID, slice)``.

    ``slice`` is the output slice the frame became: 0-based along the volume's third axis,
    ``T:K`` for time point T of a 4-D volume; empty when no output slice holds the frame's
    pixels unchanged (resampled along the normal to a grid that misses its position, or
    shifted in-plane to undo a gantry tilt; the manifest's ``problems`` column says which).
    """
    found = []
    four_d = len(volume.frames) > 1
    exact = volume.exact_slices()
    for t, frames in enumerate(volume.frames):
        for k, idx in enumerate(frames):
            ref = plan.frames[idx]
            j = exact.get(k)
            where = "" if j is None else f"{t}:{j}" if four_d else str(j)
            found.append((ref.source, ref.frame, ref.sop_uid, where))
    return found


def dropped_sources(
    sources: Sequence[str], rows: Sequence[dict[str, str]], problems: Sequence[str] = ()
) -> tuple[tuple[str, str], ...]:
    """Files of a series (``sources``) in none of its ``sources.csv`` ``rows``: every frame
    was an exact duplicate, or a slice a ``near-duplicate positions`` note of ``problems``
    names (left out of an evenly spaced stack, :func:`pipeline.dicom.stack.near_duplicates`).
    """
    from pipeline.dicom.files import escape_name

    listed = {r["source"] for r in rows}
    near = " ".join(p for p in problems if p.startswith("near-duplicate positions:"))
    out = []
    for name in (escape_name(s) for s in sources):
        if name in listed:
            continue
        if f"{name} (" in near:
            out.append((name, "near-duplicate position: a slice off the evenly spaced grid of "
                              "its series' others, left out (the manifest's problems say "
                              "it)"))  # fmt: skip
        else:
            out.append((name, "duplicate: every frame repeats an image at the same position; "
                              "dropped"))  # fmt: skip
    return tuple(out)
