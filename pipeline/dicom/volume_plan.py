"""The plan of one output volume (:class:`VolumePlan`) and the position tolerance.

Shared by :mod:`pipeline.dicom.assemble` (series) and :mod:`pipeline.dicom.stack` (one stack).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.words import counted

#: Largest distance (mm) between a slice's DICOM position and where the volume puts it.
POSITION_TOLERANCE = 0.05


@dataclass(frozen=True)
class VolumePlan:
    """One output volume: ``frames[t][k]`` indexes the series' frame list.

    ``distances[k]`` is input slice k's distance along the normal relative to slice 0 (mm);
    ``grid`` the output slices' distances when resampled along the normal (else ``None``:
    output slice k is input slice k); ``shifts[k]`` the in-plane (row, column) shift in
    pixels that removes a tilt (else ``None``). ``affine`` maps (column, row, slice) indices
    of the output to LPS mm. ``diffusion`` holds each time point's (b-value, LPS gradient)
    of a diffusion-weighted 4-D volume (:mod:`pipeline.dicom.diffusion`); ``frame_time``
    the time step (ms) of a cine's frames (:mod:`pipeline.dicom.cine`).
    """

    frames: tuple[tuple[int, ...], ...]
    distances: tuple[float, ...]
    affine: np.ndarray | None
    spacing: tuple[float, float, float]
    grid: tuple[float, ...] | None = None
    shifts: tuple[tuple[float, float], ...] | None = None
    sheared: bool = False
    repetition_time: float | None = None
    problems: tuple[str, ...] = ()
    diffusion: tuple[tuple[float, tuple[float, float, float] | None], ...] | None = None
    frame_time: float | None = None
    pixel_mm: bool = True  # the in-plane spacing is a pixel size in mm (not 1 x 1 by default)

    @property
    def num_slices(self) -> int:
        """Slices of the output volume (after any resampling along the normal)."""
        return len(self.grid) if self.grid is not None else len(self.frames[0])

    def is_shifted(self, k: int) -> bool:
        """Whether input slice ``k`` is moved in-plane to undo a tilt (a shift over 1e-6 px)."""
        return self.shifts is not None and any(abs(v) > 1e-6 for v in self.shifts[k])

    def resample_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Linear resampling along the normal onto ``grid`` (which must be set).

        Returns
        -------
        lower : numpy.ndarray
            ``(num_slices,)`` int: the input slice at or below each output slice.
        weight : numpy.ndarray
            ``(num_slices,)`` float32: the weight of input slice ``lower + 1`` (``1 - weight``
            of ``lower``). A weight within 1e-6 of 0 or 1 is made exactly 0 or 1, so an output
            slice at an input slice's position holds that slice's pixels exactly.
        """
        if self.grid is None:
            raise ValueError("resample_weights: the volume is not resampled (grid is None).")
        dist = np.asarray(self.distances)
        grid = np.asarray(self.grid)
        lower = np.clip(np.searchsorted(dist, grid, side="right") - 1, 0, len(dist) - 2)
        weight = np.clip((grid - dist[lower]) / (dist[lower + 1] - dist[lower]), 0.0, 1.0)
        weight[weight < 1e-6] = 0.0
        weight[weight > 1 - 1e-6] = 1.0
        return lower, weight.astype(np.float32)

    def exact_slices(self) -> dict[int, int]:
        """Input slice k -> the output slice j that holds its pixels unchanged.

        A slice shifted in-plane (tilt) or missed by the resampling grid is not in the dict:
        its values reach the volume only interpolated.
        """
        kept = [k for k in range(len(self.frames[0])) if not self.is_shifted(k)]
        if self.grid is None:
            return {k: k for k in kept}
        lower, weight = self.resample_weights()
        at = {int(lo): j for j, (lo, w) in enumerate(zip(lower, weight, strict=True)) if w == 0}
        at.update({int(lo) + 1: j for j, (lo, w) in enumerate(zip(lower, weight, strict=True))
                   if w == 1})  # fmt: skip
        return {k: at[k] for k in kept if k in at}


class _Refused(Exception):
    """A geometry policy says ``refuse``: the series is refused with this message.

    ``source`` names the file at fault when one is (``""``: the series as a whole).
    """

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(message)
        self.source = source


def time_step(starts: list[float | None], tr: float) -> tuple[float, str]:
    """The 4-D time step in ms, and a note when it is not the RepetitionTime.

    ``starts`` are the time points' first acquisition times (s, in time-point order),
    ``tr`` the RepetitionTime (ms). TR is the time between volumes only for some sequences
    (2-D EPI); a 3-D dynamic (DCE) series has a TR of a few ms and volumes seconds apart
    (dcm2niix #825, vtk-dicom #121). When every time point has a time and they increase, their
    median step is used if it differs from TR by more than 5% (1 s for times in whole
    seconds); unevenly spaced time points (a NIfTI has one step) are said too. Times that run
    against the time points' order leave TR, said; times that only repeat (every image the
    series start) leave TR with no note. (Undated times past midnight are a day later by
    then: :func:`pipeline.dicom.colocated.day_times`.)
    """
    if len(starts) < 2 or any(t is None for t in starts):
        return tr, ""
    steps = np.diff(np.asarray(starts, dtype=np.float64))
    if (steps < 0).any():  # the time points' own times run against their order
        shown = ", ".join(f"{step:+.4g}" for step in steps)
        return tr, (
            f"4-D time step: the RepetitionTime {tr:g} ms; the time points' acquisition "
            f"times do not increase with them ({shown} s), so no interval was measured"
        )
    if not (steps > 0).all():  # time points that share their times: nothing measured
        return tr, ""
    median = float(np.median(steps))
    coarse = 1.0 if all(float(t).is_integer() for t in starts if t is not None) else 0.0
    agrees = abs(median * 1000 - tr) <= max(0.05 * tr, coarse * 1000)  # whole seconds: +-1 s
    uneven = float(steps.max() - steps.min()) > max(0.05 * median, coarse)
    if agrees and not uneven:
        return tr, ""
    step = tr if agrees else median * 1000
    note = f"4-D time step: {step / 1000:.4g} s"
    if not agrees:
        note += f", the median interval between time points, not the RepetitionTime {tr:g} ms"
    if uneven:
        note += (f": time points unevenly spaced ({steps.min():.4g} to {steps.max():.4g} s "
                 f"apart{_missing_points(steps)}), one step stands for all")  # fmt: skip
    return step, note


def _missing_points(steps: np.ndarray) -> str:
    """``", about 1 time point missing"`` when the steps are whole multiples of the smallest.

    A 4-D volume's time points are consecutive: one missing from the series (1, 2, 4) puts
    the next a step early, which "unevenly spaced" alone did not tell from jitter.
    """
    ratio = steps / float(steps.min())
    whole = np.rint(ratio)
    if not (np.abs(ratio - whole) <= 0.1).all() or whole.max() < 2:
        return ""
    missing = int((whole - 1).sum())
    return f", about {missing} time {'point' if missing == 1 else 'points'} missing"


#: Keys whose values number the time points 1, 2, 3, ... (PS3.3 C.7.6.2.1 and C.8.9.4.1.9).
NUMBERED = ("TemporalPositionIdentifier", "TimeSliceIndex")


def missing_numbers(how: str, values: list[object]) -> str:
    """The note for time points numbered by ``how`` with numbers missing between them, else "".

    A 4-D NIfTI's time points are consecutive: TemporalPositionIdentifier 1, 2 and 4 were
    written as three time points one step apart, the fourth a step early, with nothing said
    when the images carry no times to measure the gap by.
    """
    if how not in NUMBERED or not all(isinstance(v, int | float) for v in values):
        return ""
    found = sorted({int(v) for v in values if isinstance(v, int | float) and float(v).is_integer()})
    if len(found) != len(values) or not found:
        return ""
    missing = sorted(set(range(found[0], found[-1] + 1)) - set(found))
    if not missing:
        return ""
    shown = ", ".join(str(v) for v in missing[:5]) + (" ..." if len(missing) > 5 else "")
    kept = counted(len(found), "time point")
    return (f"missing time points: {how} {found[0]} to {found[-1]} without {shown}, {kept} "
            "written one step apart in the 4-D volume")  # fmt: skip
