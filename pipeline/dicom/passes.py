"""Reconstructions and passes filed in one series that are not one volume.

Used by :func:`pipeline.dicom.assemble.plan_series`:

- **ConvolutionKernel (0018,1210)**: images of one acquisition reconstructed with different
  kernels (soft tissue and bone) and filed in one series are two images of the same slices.
  Stacked by position, the co-located ones were told apart by acquisition order only, so a
  volume could take some slices from one kernel and the rest from the other. Each kernel is
  its own volume (:func:`kernel_groups`).
- **AcquisitionNumber (0020,0012)**: a multi-pass CT files two
  passes over overlapping ranges in one series (vtk-dicom #220). When their slices
  interleave (a slice of one pass lies inside the other's range, where the other has none),
  a stack by position alternates between the passes (two contrast phases slice by slice)
  and reads the offsets as missing slices; each pass is then its own volume
  (:func:`split_passes`). Passes whose slices coincide (time points) are left to the
  co-located stacking (a 4-D volume); passes over disjoint ranges (axial step-and-shoot CT
  numbers each rotation) and passes that interleave into one evenly spaced stack (GE MR
  series acquired in two interleaved acquisitions, which dcm2niix stacks too: dcm2niix PR
  #48; also with a slice missing) stay one volume.
- **Slice thickness**: thick and thin reconstructions of one acquisition filed in one
  series (5 mm and 1 mm slices over overlapping ranges) were stacked as one, the slices
  that coincide told apart by acquisition order and the rest interpolated together onto
  one grid; each thickness is its own volume (:func:`split_reconstructions`).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import numpy as np

from pipeline.dicom.colocated import SAME_POSITION
from pipeline.dicom.duplicates import NAMED
from pipeline.dicom.files import escape_name
from pipeline.dicom.frames import STACK_KEYS, FrameRef
from pipeline.dicom.geometry import slice_normal
from pipeline.dicom.rounding import rounded_grid
from pipeline.dicom.stack_keys import DIRECTION
from pipeline.dicom.volume_plan import POSITION_TOLERANCE
from pipeline.words import counted

__all__ = ["interleaved_stacks", "kernel_groups", "split_passes", "split_reconstructions"]

_ACQUISITION = STACK_KEYS.index("AcquisitionNumber")


def kernel_groups(
    frames: list[FrameRef], groups: list[list[int]], notes: list[str]
) -> list[list[int]]:
    """Each group split by ConvolutionKernel (images without one join the first kernel).

    Parameters
    ----------
    frames
        Every frame of the series.
    groups
        Frame indices per group (SeriesNumber and image kind).
    notes
        Gets ``split: 2 ConvolutionKernel values in one series (B30f, B70f), one volume
        each`` when a group was split.

    Returns
    -------
    list of list of int
        The groups, kernels in name order within each.
    """
    out: list[list[int]] = []
    seen: set[str] = set()
    for members in groups:
        by_kernel: dict[str, list[int]] = defaultdict(list)
        for k in members:
            by_kernel[frames[k].kernel].append(k)
        if "" in by_kernel and len(by_kernel) > 1:  # a header without it: not another kernel
            untyped = by_kernel.pop("")
            by_kernel[min(by_kernel)] += untyped
        if len(by_kernel) > 1:
            seen.update(by_kernel)
        out += [by_kernel[kernel] for kernel in sorted(by_kernel)]
    if len(out) > len(groups):
        shown = ", ".join(sorted(seen))
        notes.append(
            f"split: {len(seen)} ConvolutionKernel values in one series ({shown}), one volume each"
        )
    return out


def split_reconstructions(
    frames: list[FrameRef], group: list[int], dist: dict[int, float], notes: list[str]
) -> tuple[list[list[int]], str]:
    """One orientation group split by slice thickness when the thicknesses' ranges overlap.

    Thick and thin reconstructions filed in one series (SpacingBetweenSlices, else
    SliceThickness, differ; a slice of one lies strictly inside the other's range), whether
    their slices coincide or interleave. Thicknesses over disjoint ranges (a scan whose slice
    thickness changes along the table) stay one group, and so do slices whose positions are
    one evenly spaced stack with no two at one place: a slice written with another thickness
    in the middle of a series was split out as a "reconstruction" of one slice and the hole
    it left interpolated from its neighbours. dcm2niix stacks by position and never compares
    thicknesses; ``notes`` then gets ``slice thickness differs: 5 mm on 1 slice (a.dcm), 3
    mm on the other 6, kept in one volume (their positions are evenly spaced)``.

    Returns
    -------
    (groups, what)
        ``([group], "")``, or one list per thickness (thinnest first) and ``"2
        reconstructions by SliceThickness"``.
    """
    steps = {frames[k].slice_step for k in group}
    if None in steps:
        return [group], ""
    same = _same_thickness(steps)  # type: ignore[arg-type]
    by_value: dict[float, list[int]] = defaultdict(list)
    for k in group:
        by_value[same[frames[k].slice_step]].append(k)  # type: ignore[index]
    if len(by_value) < 2:
        return [group], ""
    places = {v: np.sort([dist[k] for k in found]) for v, found in by_value.items()}
    if not any(_within(places[a], places[b]) or _within(places[b], places[a])
               for a, b in combinations(places, 2)):  # fmt: skip
        return [group], ""
    if _one_stack(frames, group, dist, places[max(by_value, key=lambda v: len(by_value[v]))]):
        notes.append(_kept_thickness_note(frames, by_value))
        return [group], ""
    order = sorted(by_value)
    return [by_value[v] for v in order], f"{len(order)} reconstructions by SliceThickness"


def _one_stack(
    frames: list[FrameRef], group: list[int], dist: dict[int, float], main: np.ndarray
) -> bool:
    """Whether ``group`` is one evenly spaced stack at the step of its main thickness.

    No two slices at one place, evenly spaced together, and that step is the one the most
    common thickness's slices keep among themselves (a slice of another thickness fills a
    place of their grid): thin slices interleaved between thick ones make an even stack too,
    at a step the thick slices never had, and stay apart.
    """
    ordered = sorted(group, key=lambda k: dist[k])
    rel = np.array([dist[k] for k in ordered])
    step = float(np.diff(rel).min())
    if step <= SAME_POSITION or not _evenly_spaced(frames, ordered, rel):
        return False
    return len(main) < 2 or abs(float(np.diff(main).min()) - step) <= 0.05 * step


def _kept_thickness_note(frames: list[FrameRef], by_value: dict[float, list[int]]) -> str:
    """The note of one evenly spaced volume whose slices hold several thicknesses."""
    main = max(by_value, key=lambda v: (len(by_value[v]), -v))
    others = []
    for v in sorted(v for v in by_value if v != main):
        names = sorted(frames[k].source for k in by_value[v])
        shown = ", ".join(escape_name(n) for n in names[:NAMED])
        more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
        others.append(f"{v:g} mm on {counted(len(names), 'slice')} ({shown}{more})")
    rest = len(by_value[main])
    return (f"slice thickness differs (SpacingBetweenSlices, else SliceThickness): "
            f"{', '.join(others)}, {main:g} mm on the other {rest}, kept in one volume "
            "(their positions are evenly spaced)")  # fmt: skip


#: Thicknesses closer than this (mm) are one: DS values rounded or computed per slice
#: (2.5 and 2.50000001, 2 and 2.0001) split one series into a volume with a resampled gap
#: and single-slice volumes.
THICKNESS_TOLERANCE = 0.01


def _same_thickness(steps: set[float]) -> dict[float, float]:
    """Each thickness mapped to the smallest of the run within :data:`THICKNESS_TOLERANCE`."""
    out: dict[float, float] = {}
    start: float | None = None
    for v in sorted(steps):
        if start is None or v - start > THICKNESS_TOLERANCE:
            start = v
        out[v] = start
    return out


def split_passes(
    frames: list[FrameRef], stack: list[int], dist: dict[int, float]
) -> tuple[list[list[int]], str]:
    """One stack split by AcquisitionNumber when its passes' slices interleave, else itself.

    Split first by a value one volume never mixes (:data:`_CONTRASTS`), and, when the stack
    is not evenly spaced, by StackID: two slabs of an Enhanced object with a gap between
    them were one volume, the gap interpolated from their edge slices.

    Parameters
    ----------
    frames
        Every frame of the series.
    stack
        Frame indices of one stack (no two at one position).
    dist
        Each frame's distance along the slice normal (mm).

    Returns
    -------
    (stacks, what)
        ``([stack], "")``, or one list per AcquisitionNumber (in number order) and ``"2
        passes by AcquisitionNumber"`` when the stack is not evenly spaced and a slice of
        one lies strictly inside another's range more than :data:`SAME_POSITION` from any
        of its slices.
    """
    contrasts, what = _split_contrasts(frames, stack)
    if what:
        return contrasts, what
    ordered = sorted(stack, key=lambda k: dist[k])
    rel = np.array([dist[k] for k in ordered])
    if _evenly_spaced(frames, ordered, rel):
        return [stack], ""  # one evenly spaced stack: interleaved acquisitions of one volume
    if found := _by_value(frames, stack, "StackID"):  # two slabs of an Enhanced object
        return found, (f"{len(found)} stacks by StackID (0020,9056) that are not evenly spaced "
                       "together (frames of other stacks, PS3.3 C.7.6.16.2.2.4)")  # fmt: skip
    by_number: dict[object, list[int]] = defaultdict(list)
    for k in stack:
        by_number[_acquisition_number(frames[k])].append(k)
    if len(by_number) < 2 or None in by_number:
        return [stack], ""
    places = {n: np.sort([dist[k] for k in found]) for n, found in by_number.items()}
    if not any(_inside(places[a], places[b]) or _inside(places[b], places[a])
               for a, b in combinations(places, 2)):  # fmt: skip
        return [stack], ""
    if _interleaved_volume(rel, places):
        return [stack], ""  # interleaved acquisitions of one volume, a slice missing
    order = sorted(by_number, key=lambda n: (str(type(n)), n))
    return [by_number[n] for n in order], (f"{len(order)} passes by AcquisitionNumber whose "
                                           "slices interleave")  # fmt: skip


#: Values one 3-D volume never mixes: a b-value or gradient direction, an echo, a complex
#: component are other images of the slices, whatever their positions; so is a time point
#: (TemporalPositionIdentifier): an fMRI series whose slices a prospective motion correction
#: moved by 0.3 mm from one time point to the next was one stack of every time point's
#: slices, resampled as "uneven slice spacing", the time points interpolated into each other.
_CONTRASTS = (
    "ComplexImageComponent", "ProtocolName", "EchoNumbers", "EchoTime", "DiffusionBValue",
    DIRECTION, "TemporalPositionIdentifier",
)  # fmt: skip
# EchoTime: echoes of files without EchoNumbers (a stack key for co-located echoes, as
# dcm2niix splits on "echo varies (TE ...)"); apart, they were one silent volume. So were
# images of two ProtocolName values (a merged export; dcm2niix: "protocol name varies").


def _split_contrasts(frames: list[FrameRef], stack: list[int]) -> tuple[list[list[int]], str]:
    """One stack (no two slices at one position) split by a value of :data:`_CONTRASTS`.

    Images of two b-values (or echoes, or magnitude and phase) whose positions do not
    coincide, as a Skyra XA30 DWI's b = 0 volumes 3.5 mm off its b = 2000 ones (dcm2niix
    #888), are never co-located, so nothing told them apart: one stack took them all, the
    offsets read as missing slices, and the volume interpolated b = 0 into b = 2000 slices.
    Each value is its own volume when every value has at least two slices (a value per slice
    is a header's quirk, not several volumes). ``([], "")`` when not split.
    """
    for key in _CONTRASTS:
        if found := _by_value(frames, stack, key):
            return found, (f"{len(found)} stacks by {key} at positions that do not coincide "
                           "(one volume never mixes them)")  # fmt: skip
    return [], ""


def _by_value(frames: list[FrameRef], stack: list[int], key: str) -> list[list[int]]:
    """``stack`` by its frames' value of ``key`` (in :func:`_value_order`), or ``[]``.

    Split only into several values of two frames or more each (a value per slice is a
    header's quirk, not several volumes).
    """
    j = STACK_KEYS.index(key)
    by_value: dict[str, list[int]] = defaultdict(list)
    for k in stack:
        value = frames[k].stack_values[j] if frames[k].stack_values else None
        by_value["" if value is None else str(value)].append(k)
    if len(by_value) > 1 and min(map(len, by_value.values())) >= 2:
        return [by_value[v] for v in sorted(by_value, key=_value_order)]
    return []


def _value_order(value: str) -> tuple[int, float | str]:
    """Numbers in numeric order (b = 0 before b = 1000), then text."""
    try:
        return 0, float(value)
    except ValueError:
        return 1, value


def _interleaved_volume(rel: np.ndarray, places: dict[object, np.ndarray]) -> bool:
    """Whether passes are interleaved acquisitions of one volume with slices missing.

    Every pass spans (nearly) the whole range, as odd and even slices do, every step of
    the union is a whole multiple of its smallest (a gap, not an offset between passes), and
    that smallest step is the passes' own divided by their number (odd and even slices 3 mm
    apart each, 6 mm within each pass). A multi-pass CT's passes overlap only in part; two
    passes 0.02 mm apart with 2.96 mm slices (time points or repeats of one stack, which a
    motion correction moved) have whole multiples too (2.94 = 147 x 0.02) but a step 148
    times theirs: taken for one volume, the series was refused for 584 "missing slices".
    """
    steps = np.diff(rel)
    step = float(steps.min())
    if step <= SAME_POSITION:
        return False
    ratio = steps / step
    extent = float(rel[-1] - rel[0])
    spans = [float(p[-1] - p[0]) for p in places.values()]
    own = [float(np.diff(p).min()) for p in places.values() if len(p) > 1]
    interleaved = bool(own) and abs(min(own) / step - len(places)) < 0.05 * len(places)
    return (interleaved and bool(np.all(np.abs(ratio - np.rint(ratio)) < 0.05))
            and min(spans) >= 0.8 * extent)  # fmt: skip


def _acquisition_number(f: FrameRef) -> object:
    return f.stack_values[_ACQUISITION] if f.stack_values else None


def _within(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a position of ``a`` lies strictly inside ``b``'s range."""
    return bool(((a > b[0] + SAME_POSITION) & (a < b[-1] - SAME_POSITION)).any())


def _evenly_spaced(frames: list[FrameRef], ordered: list[int], rel: np.ndarray) -> bool:
    """Whether distances ``rel`` (of frames ``ordered``, sorted) are evenly spaced.

    Within :data:`POSITION_TOLERANCE`, or the rounding of positions written coarsely
    (:mod:`pipeline.dicom.rounding`: GE's interleaved odd and even slices at 0.1 mm).
    """
    if len(rel) < 3:
        return True
    if np.abs(rel - np.linspace(rel[0], rel[-1], len(rel))).max() <= POSITION_TOLERANCE:
        return True
    orientation = frames[ordered[0]].orientation
    positions = np.array([frames[k].position for k in ordered], dtype=np.float64)
    if orientation is None or positions.ndim != 2:
        return False
    found = rounded_grid(positions, rel - rel[0], slice_normal(orientation))
    return found is not None and float(np.ptp(np.diff(found))) <= 1e-6  # no slice missing


def _inside(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a position of ``a`` lies inside ``b``'s range where ``b`` has no slice."""
    within = a[(a > b[0] + SAME_POSITION) & (a < b[-1] - SAME_POSITION)]
    if within.size == 0:
        return False
    nearest = np.abs(within[:, None] - b[None, :]).min(axis=1)
    return bool((nearest > SAME_POSITION).any())


def interleaved_stacks(frames: list[FrameRef], stack: list[int], dist: dict[int, float]) -> str:
    """A note when one evenly spaced stack interleaves the frames of several StackIDs, or "".

    Frames of different stacks need not belong together (PS3.3 C.7.6.16.2.2.4); stacks
    whose slices interleave into one even spacing are stacked as one volume, as dcm2niix
    (which reads no StackID) stacks them, but that was unsaid: two stacks acquired apart
    (a patient moving between them) alternate slice by slice in it.
    """
    found = _by_value(frames, stack, "StackID")
    places = [np.sort([dist[k] for k in s]) for s in found]
    if not any(_inside(a, b) for a, b in combinations(places, 2)):
        return ""
    return (f"{len(found)} stacks by StackID (0020,9056) interleave: stacked as one evenly "
            "spaced volume, slices of the stacks alternating (as dcm2niix, which reads no "
            "StackID)")  # fmt: skip
