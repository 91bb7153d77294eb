"""Slices and time points a header says there should be, checked against those present.

Slices missing at the ends of a stack cannot be seen from the positions of those present (a
gap inside it can), nor a whole time point missing at the end of a run. Where the header
says how many there should be, a shortfall is said by name (dcm2niix warns alike: "DICOM
images may be missing, expected 30 spatial locations per volume, but found 28"):

- ``LocationsInAcquisition`` (0021,104F), GE's private slice count per volume (creator
  ``GEMS_RELA_01``), and Philips' ``NumberOfSlicesMR`` (2001,1018) (creator ``Philips
  Imaging DD 001``), against each volume's slices;
- ``ImagesInAcquisition`` (0020,1002), PS3.3 C.7.6.1, against the images of each
  AcquisitionNumber in the series (GE counts every time point's: an fMRI run's 300 images);
- ``NumberOfTemporalPositions`` (0020,0105), PS3.3 C.7.6.1 (an MR image's), against the
  TemporalPositionIdentifier values present;
- an Enhanced object's ``InStackPositionNumber`` (0020,9057), numbered from 1 in each stack
  (PS3.3 C.7.6.16.2.2.4): a stack whose numbers start later lacks its first slices.

More than the header says is no shortfall (GE's ZIP interpolation writes twice the slices
acquired; dcm2niix #556) and is not said.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pipeline.dicom.frame_layout import optional_int
from pipeline.dicom.frame_ref import FrameRef
from pipeline.dicom.groups import FrameGroups, attribute
from pipeline.dicom.private_diffusion import private_element
from pipeline.dicom.stack_keys import STACK_KEYS
from pipeline.dicom.volume_plan import VolumePlan

__all__ = ["COUNT_KEYS", "count_notes", "header_counts"]

#: What :attr:`FrameRef.counts` holds, in this order (the first and last: slices per volume).
COUNT_KEYS = ("LocationsInAcquisition", "ImagesInAcquisition", "NumberOfTemporalPositions",
              "NumberOfSlicesMR")  # fmt: skip
_TAGS = {"LocationsInAcquisition": "(0021,104F)", "ImagesInAcquisition": "(0020,1002)",
         "NumberOfTemporalPositions": "(0020,0105)", "NumberOfSlicesMR": "(2001,1018)"}  # fmt: skip
#: Private slice counts per volume: (group, creator, offset, VR size) of GE's
#: LocationsInAcquisition and Philips' NumberOfSlicesMR (which dcm2niix reads: #515).
_PRIVATE = {"LocationsInAcquisition": (0x0021, "GEMS_RELA_01", 0x4F, 2),
            "NumberOfSlicesMR": (0x2001, "Philips Imaging DD 001", 0x18, 4)}  # fmt: skip


def header_counts(
    ds: Any, frame: int = 0, view: FrameGroups | None = None
) -> tuple[int | None, ...]:
    """The frame's values of :data:`COUNT_KEYS` (``None`` where absent, unreadable or < 1)."""
    found = [_private_count(ds, COUNT_KEYS[0])]
    found += [optional_int(attribute(ds, "", key, frame, view)) for key in COUNT_KEYS[1:3]]
    found.append(_private_count(ds, COUNT_KEYS[3]))
    return tuple(n if n is not None and n > 0 else None for n in found)


def _private_count(ds: Any, key: str) -> int | None:
    """A private slice count of :data:`_PRIVATE` (at its usual block, ``xx10``, or another)."""
    group, creator, offset, size = _PRIVATE[key]
    value = private_element(ds, group, creator, offset, at=(group << 16) | 0x1000 | offset)
    if isinstance(value, bytes):  # implicit VR without the private dictionary: SS or SL
        return int.from_bytes(value[:size], "little", signed=True) if len(value) >= size else None
    return optional_int(value[0] if isinstance(value, list | tuple) and value else value)


def count_notes(
    frames: list[FrameRef], volumes: list[VolumePlan]
) -> tuple[list[str], list[VolumePlan]]:
    """Series notes of a shortfall and the volumes with theirs (LocationsInAcquisition).

    Returns
    -------
    (notes, volumes)
        ``ImagesInAcquisition (0020,1002) says 30 images, 28 present: images may be
        missing`` and the like; each volume whose frames share a LocationsInAcquisition larger
        than its slices gets ``LocationsInAcquisition (0021,104F) says 30 slices, 28 present:
        slices may be missing at the ends``.
    """
    notes = [n for n in (_images_note(frames), _times_note(frames), _in_stack_note(frames)) if n]
    return notes, [_volume_with_note(frames, v) for v in volumes]


def _shared(frames: list[FrameRef], members: Sequence[int], j: int) -> int | None:
    """The one value of count ``j`` that frames of ``members`` give (others none), else ``None``."""
    values = {frames[k].counts[j] for k in members if frames[k].counts} - {None}
    return values.pop() if len(values) == 1 else None


def _volume_with_note(frames: list[FrameRef], volume: VolumePlan) -> VolumePlan:
    present, span = len(volume.frames[0]), volume.num_slices
    for j in (0, 3):  # GE's, then Philips' slices per volume
        said = _shared(frames, volume.frames[0], j)
        if said is not None and span < said:
            spanning = f" spanning {span} slice positions" if span != present else ""
            note = (f"{COUNT_KEYS[j]} {_TAGS[COUNT_KEYS[j]]} says {said} slices, {present} "
                    f"present{spanning}: slices may be missing at the ends")  # fmt: skip
            return replace(volume, problems=(*volume.problems, note))
    return volume


def _images_note(frames: list[FrameRef]) -> str:
    """A shortfall of images against ImagesInAcquisition, per AcquisitionNumber."""
    j = STACK_KEYS.index("AcquisitionNumber")
    images: dict[tuple[Any, int], set[tuple[str, int]]] = defaultdict(set)
    for f in frames:
        if f.counts and f.counts[1] is not None:
            number = f.stack_values[j] if f.stack_values else None
            images[(number, f.counts[1])].add((f.sop_uid, f.frame))
    short = [(number, said, len(held)) for (number, said), held in images.items()
             if len(held) < said]  # fmt: skip
    if not short:
        return ""
    number, said, held = min(short, key=lambda s: (s[2] - s[1], str(s[0])))
    which = f" (AcquisitionNumber {number})" if len(images) > 1 and number is not None else ""
    more = f", and {len(short) - 1} other acquisition(s) short too" if len(short) > 1 else ""
    return (f"ImagesInAcquisition {_TAGS[COUNT_KEYS[1]]} says {said} images, {held} "
            f"present{which}{more}: images may be missing")  # fmt: skip


def _times_note(frames: list[FrameRef]) -> str:
    """A shortfall of TemporalPositionIdentifier values against NumberOfTemporalPositions."""
    said = _shared(frames, range(len(frames)), 2)
    j = STACK_KEYS.index("TemporalPositionIdentifier")
    present = {f.stack_values[j] for f in frames if f.stack_values} - {None}
    if said is None or not present or len(present) >= said:
        return ""
    return (f"NumberOfTemporalPositions {_TAGS[COUNT_KEYS[2]]} says {said} time points, "
            f"{len(present)} present (TemporalPositionIdentifier): a whole time point may be "
            "missing")  # fmt: skip


def _in_stack_note(frames: list[FrameRef]) -> str:
    """Each StackID whose InStackPositionNumber values start above 1, said once."""
    j = STACK_KEYS.index("StackID")
    first: dict[Any, int] = {}
    for f in frames:
        if f.in_stack is not None:
            stack = f.stack_values[j] if f.stack_values else None
            first[stack] = min(first.get(stack, f.in_stack), f.in_stack)
    late = sorted(((_shown(s), n) for s, n in first.items() if n > 1), key=lambda s: s[0])
    if not late:
        return ""
    stack, n = late[0]
    which = f" in StackID {stack}" if stack != "None" else ""
    more = f", and in {len(late) - 1} other stack(s)" if len(late) > 1 else ""
    lost = "slice 1 may be" if n == 2 else f"slices 1 to {n - 1} may be"
    return (f"InStackPositionNumber (0020,9057) starts at {n}{which}{more} (numbered from 1, "
            f"PS3.3 C.7.6.16.2.2.4): {lost} missing at the start")  # fmt: skip


def _shown(value: Any) -> str:
    """A StackID as written: ``1``, not the ``1.0`` it is read as."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
