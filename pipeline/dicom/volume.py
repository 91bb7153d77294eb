"""Read a series' files once and build the volumes its plan describes.

The plan is a :class:`~pipeline.dicom.assemble.SeriesPlan`: frames (mosaic tiles split),
duplicates recognised by pixel digest, tilt shifts and resampling along the normal applied.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from pipeline.dicom.assemble import GeometryPolicy, SeriesPlan, VolumePlan, plan_series
from pipeline.dicom.decode import DEFAULT_MAX_PIXELS
from pipeline.dicom.duplicates import shared_places
from pipeline.dicom.frames import FrameRef, demosaic, frame_refs
from pipeline.dicom.geometry import lps_to_ras
from pipeline.dicom.padding import blend, padding_cell, padding_mask, shift_slice, unpacked_mask
from pipeline.dicom.rgb_volume import build_rgb_volume, colour_frame_note, is_rgb_frames
from pipeline.errors import DicomError

if TYPE_CHECKING:
    from pipeline.dicom.read import Volume
    from pipeline.ops.voi import WindowSpec


@dataclass(frozen=True)
class SeriesVolume:
    """One assembled volume: ``image`` is ``(D, H, W)`` or ``(T, D, H, W)``.

    ``frame_time``: a cine's time step in ms (its ``D`` frames are time points).

    float32; int16 or uint16 with ``exact_integers`` when every value is a whole number in that
    type's range.
    """

    image: np.ndarray
    affine_ras: np.ndarray | None
    spacing: tuple[float, float, float]
    repetition_time: float | None
    sheared: bool
    problems: tuple[str, ...]
    window: str
    diffusion: tuple[tuple[float, tuple[float, float, float] | None], ...] | None = None
    frame_time: float | None = None
    rgb: bool = False  # image has a last axis of 3 RGB samples, uint8 (rgb_volume)
    padding: str = ""  # its Pixel Padding Value pixels, said (padding.padding_cell)
    pixel_mm: bool = True  # ``spacing``'s in-plane values are a pixel size in mm


@dataclass(frozen=True)
class ExactFrame:
    """A frame whose modality values are ``stored + intercept`` exactly (integers, no window).

    Kept as stored until the volume is built, so a volume of them is filled in its final
    integer type in one pass (no float32 copy per slice, no stacked float32 volume, no check
    that the values are whole).
    """

    stored: np.ndarray  # (H, W) int8, uint8, int16 or uint16, as stored in the file
    intercept: int
    span: tuple[int, int] | None = None  # stored's smallest and largest value, when known

    @property
    def shape(self) -> tuple[int, ...]:
        """``(H, W)``."""
        return tuple(self.stored.shape)

    @property
    def size(self) -> int:
        """The number of pixels."""
        return int(self.stored.size)

    def float32(self) -> np.ndarray:
        """The modality values as float32 (exact: integers below 2**24)."""
        from pipeline.dicom.exact import float32_values

        return float32_values(self.stored, self.intercept)

    def value_range(self) -> tuple[int, int]:
        """The smallest and largest modality value."""
        low, top = self.span or (int(self.stored.min()), int(self.stored.max()))
        return low + self.intercept, top + self.intercept


Frame = np.ndarray | ExactFrame


def _float32(frame: Frame) -> np.ndarray:
    return frame.float32() if isinstance(frame, ExactFrame) else frame


def load_series(
    root: str | Path,
    sources: Sequence[str],
    window: Any = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    exact_integers: bool = False,
    notes: list[str] | None = None,
    padding: dict[int, np.ndarray] | None = None,
    known: Mapping[str, tuple[str, Sequence[FrameRef]]] | None = None,
    file_notes: dict[str, list[str]] | None = None,
) -> tuple[list[FrameRef], list[Frame], str]:
    """Every frame of the files (relative to ``root``) as float32 ``(H, W)`` arrays.

    ``window`` is a :class:`~pipeline.ops.voi.WindowSpec` (default: none, modality values).
    With ``exact_integers``, a frame whose modality values are whole numbers computed exactly
    from stored integers (:func:`pipeline.dicom.exact.exact_modality`) is an
    :class:`ExactFrame` instead. Returns the frames' :class:`FrameRef` (with pixel digests),
    their arrays and the window names used; each file's problems (recovered header defects,
    an ignored header window) are added to ``notes`` once; ``padding`` gets, by index in the
    returned arrays, the mask of each frame's Pixel Padding Value pixels, bit-packed
    (``numpy.packbits``: an eighth of a byte per pixel); ``file_notes`` each file's own, by
    source. ``known`` maps a source to the
    header digest and frames an earlier reading of its header found (the index's
    :class:`~pipeline.dicom.index.Instance`): a file read again with the same digest (the
    same header bytes) takes those frames instead of working them out again. Raises
    :class:`~pipeline.errors.DicomError` naming the file on bad input.
    """
    from pipeline.dicom.colour_out import colour_depth
    from pipeline.dicom.exact import exact_modality
    from pipeline.dicom.read import render, window_note
    from pipeline.ops.voi import WindowSpec

    window = window or WindowSpec(mode="none", name="none")
    refs: list[FrameRef] = []
    arrays: list[Frame] = []
    names: set[str] = set()
    for rel in sources:
        found, image = _read_frames(os.path.join(root, rel), rel, max_pixels,
                                    known.get(rel) if known else None)  # fmt: skip
        if image is None:
            refs += found
            arrays += [np.zeros((0, 0), np.float32)] * len(found)
            continue
        if notes is not None:
            said = window_note(window, image, "")  # units the header says, a colour image's
            more = colour_frame_note(colour_depth(image)) if image.is_color else None
            own = [p for p in dict.fromkeys((*image.problems, said, more)) if p]
            notes += [p for p in own if p not in notes]
            if file_notes is not None:
                file_notes[rel] = own
        tiles, out = None, cast(Any, "uint8" if image.is_color else "float32")  # RGB as PNG
        for ref in found:
            if ref.mosaic:
                if tiles is None:
                    tiled, name = render(image, 0, window, "float32")
                    tiles = demosaic(tiled, ref.mosaic)
                    names.add(name)
                array = tiles[ref.frame]
            else:
                mask = padding_mask(image.stored[ref.frame], image.padding)
                if mask is not None and padding is not None:
                    padding[len(arrays)] = np.packbits(mask)
                exact = exact_modality(image, ref.frame, window) if exact_integers else None
                exact = None if image.is_color else exact
                if exact is not None:
                    refs.append(ref)
                    one = len(image.stored) == 1  # the file's span is the frame's
                    arrays.append(ExactFrame(*exact, image.stored_span if one else None))
                    names.add("none")
                    continue
                array, name = render(image, ref.frame, window, out)
                names.add(name)
            refs.append(ref)
            arrays.append(np.asarray(array, dtype=out))
    return _with_digests(refs, arrays), arrays, "/".join(sorted(names)) or "none"


def _read_frames(
    path: str, rel: str, max_pixels: int, known: tuple[str, Sequence[FrameRef]] | None = None
) -> tuple[list[FrameRef], Any]:
    """A file's frames and decoded image (``None`` when a frame is refused); plain files fast.

    ``known``: the digest of the header and the frames found from it before (the index's), taken
    when this reading's header digest is the same. Raises :class:`~pipeline.errors.DicomError`
    naming the file.
    """
    from pipeline.dicom import plain
    from pipeline.dicom.index import Problem, read_dataset
    from pipeline.dicom.read import image_from_dataset

    def work(ds: Any) -> tuple[list[FrameRef], Any]:
        digest = getattr(ds, "header_digest", "")  # "" for a pydicom reading
        same = known is not None and bool(digest) and known[0] == digest
        found = list(known[1]) if same and known is not None else frame_refs(ds, rel)
        if any(f.refusal for f in found):
            return found, None
        return found, image_from_dataset(ds, rel, max_pixels=max_pixels, header_checked=same)

    fast = plain.try_plain(path, work, lambda r: r[1] is not None and not r[1].problems,
                           pixels=True)  # fmt: skip
    if fast is not None:
        return fast
    ds = read_dataset(path, rel, pixels=True)
    if isinstance(ds, Problem):
        raise DicomError(rel, ds.reason)
    return work(ds)


def _with_digests(refs: list[FrameRef], arrays: list[Frame]) -> list[FrameRef]:
    """Pixel digests (SHA-1) of the frames that share their place with another frame.

    Only those can be duplicates (:func:`pipeline.dicom.duplicates.shared_places`).
    """
    out = []
    for ref, array, shared in zip(refs, arrays, shared_places(refs), strict=True):
        if shared and array.size:
            digest = hashlib.sha1(np.ascontiguousarray(_float32(array)).data).hexdigest()
            ref = replace(ref, digest=f"{array.shape}{digest}")
        out.append(ref)
    return out


def read_volumes(
    root: str | Path,
    sources: Sequence[str],
    window: Any = None,
    policy: GeometryPolicy | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    exact_integers: bool = False,
    known: Mapping[str, tuple[str, Sequence[FrameRef]]] | None = None,
) -> tuple[SeriesPlan, list[SeriesVolume]]:
    """Plan and build the volumes of one series (see :func:`plan_series`).

    A refused series comes back with ``plan.refusal`` set and no volumes. With
    ``exact_integers``, a volume whose values are all whole numbers computed exactly from
    stored integers comes back as int16 or uint16 where its values fit (else float32): the
    same values, built without a float32 copy (what ``convert --format nifti`` writes).
    ``known``: as for :func:`load_series`.
    """
    notes: list[str] = []  # the files' own problems, each for the volumes of its file
    by_file: dict[str, list[str]] = {}
    masks: dict[int, np.ndarray] = {}
    refs, arrays, names = load_series(root, sources, window, max_pixels=max_pixels,
                                      exact_integers=exact_integers, notes=notes,
                                      padding=masks, known=known, file_notes=by_file)  # fmt: skip
    plan = plan_series(refs, policy)
    volumes = [build_volume(v, arrays, [*_notes_of(v, plan.frames, notes, by_file), *plan.notes],
                            names, masks)
               for v in plan.volumes]  # fmt: skip
    return plan, volumes


def _notes_of(
    volume: VolumePlan, refs: Sequence[FrameRef], notes: list[str], by_file: dict[str, list[str]]
) -> list[str]:
    """The files' notes (``notes``, in the order found) that a file of ``volume`` gave.

    A series split into volumes (echoes, SeriesNumbers) gave every volume every file's
    notes, so a clean volume's manifest row said another file's masked bits.
    """
    files = {refs[k].source for t in volume.frames for k in t}
    own = {p for f in files for p in by_file.get(f, ())}
    return [p for p in notes if p in own]


def build_volume(
    plan: VolumePlan,
    arrays: list[Frame],
    notes: Sequence[str] = (),
    window: str = "none",
    padding: dict[int, np.ndarray] | None = None,
) -> SeriesVolume:
    """Stack, shift and resample the frames of one :class:`VolumePlan`.

    ``padding``: bit-packed Pixel Padding Value masks by frame index (see
    :func:`load_series`); where they take part, resampling uses the nearest pixel.
    """
    if is_rgb_frames(arrays, plan):
        return build_rgb_volume(
            plan, arrays, lambda a: build_volume(plan, a, notes, window, padding)
        )
    shapes = {arrays[k].shape for t in plan.frames for k in t}
    if len(shapes) > 1:
        raise DicomError("series", f"frames of one volume differ in size {sorted(shapes)}.")
    exact = [arrays[k] for t in plan.frames for k in t]
    if plan.shifts is None and plan.grid is None and all(isinstance(a, ExactFrame) for a in exact):
        image = _exact_volume(plan, arrays)
    else:
        packed = padding if padding and (plan.shifts is not None or plan.grid is not None) else {}
        pads = {k: unpacked_mask(packed[k], arrays[k].shape)
                for t in plan.frames for k in t if k in packed}  # fmt: skip
        stacks = [resample_stack([_float32(arrays[k]) for k in t], plan, [pads.get(k) for k in t])
                  for t in plan.frames]  # fmt: skip
        image = stacks[0] if len(stacks) == 1 else np.stack(stacks)
    masks, resampled = padding or {}, None if plan.shifts is None and plan.grid is None else image
    return SeriesVolume(
        image=image,
        affine_ras=None if plan.affine is None else lps_to_ras(plan.affine),
        spacing=plan.spacing,
        pixel_mm=plan.pixel_mm,
        repetition_time=plan.repetition_time,
        sheared=plan.sheared,
        problems=tuple(dict.fromkeys((*notes, *plan.problems))),
        window=window,
        diffusion=plan.diffusion,
        frame_time=plan.frame_time,
        padding=padding_cell(
            ((masks.get(k), arrays[k]) for t in plan.frames for k in t), _float32, resampled
        ),
    )


def _exact_volume(plan: VolumePlan, arrays: list[Frame]) -> np.ndarray:
    """The volume of :class:`ExactFrame` values, in the type ``write_nifti`` would choose.

    As for their float32 stack: int16 when every value fits, else uint16, else float32.
    """
    from pipeline.dicom.reuse import empty
    from pipeline.writers import integer_type

    frames = [[cast(ExactFrame, arrays[k]) for k in t] for t in plan.frames]
    ranges = [f.value_range() for t in frames for f in t]
    kind: Any = integer_type(min(r[0] for r in ranges), max(r[1] for r in ranges)) or np.float32
    shape = (len(frames[0]), *frames[0][0].shape)
    out = empty(shape if len(frames) == 1 else (len(frames), *shape), kind)  # pages reused
    slots = out[None] if len(frames) == 1 else out
    for t, stack in enumerate(frames):
        for k, f in enumerate(stack):
            if kind is np.float32:
                np.add(f.stored, f.intercept, out=slots[t, k], dtype=np.int32, casting="unsafe")
            else:  # added modulo 2**16 in the final type: exact, as every result fits it
                shift = np.array(f.intercept).astype(kind)
                np.add(f.stored, shift, out=slots[t, k], dtype=kind, casting="unsafe")
    return out


def resample_stack(
    slices: list[np.ndarray],
    plan: VolumePlan,
    padding: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """``(D, H, W)`` float32: in-plane tilt shifts, then linear resampling along the normal.

    Shifted-in pixels take the padding value of a slice with Pixel Padding Value pixels, else
    the slice's minimum (air, for CT), as no data exists there. Where a padding pixel
    (``padding``: one mask or ``None`` per slice) would take part in an interpolation, the
    nearest pixel is used instead (:mod:`pipeline.dicom.padding`).
    """
    masks: list[np.ndarray | None] = list(padding or [None] * len(slices))
    if plan.shifts is not None:
        for k, s in enumerate(slices):
            if s.size and plan.is_shifted(k):
                slices[k], masks[k] = shift_slice(s, plan.shifts[k], masks[k])
    stack = np.stack(slices).astype(np.float32, copy=False)
    if plan.grid is None:
        return stack
    lower, weight = plan.resample_weights()
    if all(m is None for m in masks):
        w = weight[:, None, None]
        return (1 - w) * stack[lower] + w * stack[lower + 1]
    return np.stack([
        blend(stack[j], stack[j + 1], float(w), (masks[j], masks[j + 1]))
        for j, w in zip(lower, weight)
    ]).astype(np.float32, copy=False)  # fmt: skip


def read_series(
    paths: Sequence[str | Path],
    sources: Sequence[str] | None = None,
    *,
    window: WindowSpec | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Volume:
    """Read the files of one series as a single volume, its geometry checked.

    A thin wrapper of :func:`read_volumes` (default policies: tilt and
    uneven spacing resampled; what was done is issued as a :class:`RadpipeWarning`):
    raises :class:`DicomError` when the series is refused or
    assembles into more than one volume (time points, orientations); use ``read_volumes``
    for those. ``sources`` is accepted for compatibility and ignored: errors name the paths.
    """
    from pipeline.dicom.read import Volume

    plan, volumes = read_volumes("", [str(p) for p in paths], window, max_pixels=max_pixels)
    where = str(paths[0]) if paths else "series"
    if plan.refusal or len(volumes) != 1:
        why = plan.refusal or f"{len(volumes)} volumes ({'; '.join(plan.problems + plan.info)})"
        raise DicomError(where, f"not one volume: {why}; use pipeline.dicom.volume.read_volumes.")
    if plan.problems:
        import warnings

        from pipeline.errors import RadpipeWarning

        warnings.warn(f"{where}: {'; '.join(plan.problems)}", RadpipeWarning, stacklevel=2)
    v = volumes[0]
    if v.image.ndim != 3 + v.rgb:
        raise DicomError(where, "time points: use pipeline.dicom.volume.read_volumes.")
    return Volume(v.image, v.spacing, v.affine_ras, window=v.window)
