"""DICOM Segmentation objects (SEG, PS3.3 A.51) read as class-index masks of their images.

A SEG holds one binary (or fractional) frame per segment and source frame; a labelmap SEG
(PS3.3 A.51a, highdicom's ``LABELMAP``) one frame of segment numbers. Read with highdicom, each
image (instance and frame) a SEG covers gets one mask of class indices: segment number ``N``
is class ``N``, 0 is background.

- Frames are matched to images by their source references (DerivationImageSequence's
  ReferencedSOPInstanceUID and ReferencedFrameNumber, PS3.3 C.7.6.16.2.6); a SEG without
  them by its FrameOfReferenceUID and plane positions (ImagePositionPatient of the
  PerFrameFunctionalGroupsSequence): an image whose pixel grid is a plane of the SEG's volume.
- A FRACTIONAL segment holds a pixel when its fraction is at least one half (0.5 of
  MaximumFractionalValue, PS3.3 C.8.20.2.3): highdicom itself combines fractional segments
  into labels only when every value is 0 or 1.
- Overlapping segments are refused, naming the segments and the image: a class-index mask
  holds one class per pixel, and picking one would be silently wrong.
- An image of a series the SEG covers that no SEG frame references is background (an
  unreferenced frame holds no segment, as highdicom and dcmqi read it).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.dicom.files import sanitize
from pipeline.dicom.header_scan import file_header, image_size
from pipeline.dicom.seg_frames import (
    decoded_frames,
    frame_references,
    frame_segment,
    indexed_by_segment,
)
from pipeline.errors import RadpipeError
from pipeline.words import counted

__all__ = [
    "SEG_SOP_CLASSES",
    "SourceImage",
    "held_segments",
    "is_dicom_file",
    "read_seg_masks",
    "scan_images",
    "segment_labels",
]

#: Segmentation Storage and Label Map Segmentation Storage (PS3.4 B.5).
SEG_SOP_CLASSES = ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7")
#: Positions agree within this many pixels (of the SEG's grid).
_TOLERANCE = 0.01
#: Files named in a message; the rest are counted.
_SHOWN = 10


@dataclass(frozen=True)
class SourceImage:
    """The header facts of one DICOM image that a SEG may reference (no pixels read)."""

    rel: str  # relative to the data folder, POSIX
    sop_uid: str
    series_uid: str
    frame_of_reference: str
    frames: int
    rows: int
    columns: int
    position: tuple[float, ...] | None = None  # single-frame images' ImagePositionPatient
    orientation: tuple[float, ...] | None = None
    spacing: tuple[float, ...] | None = None


def is_dicom_file(path: Path) -> bool:
    """Whether ``path`` is a DICOM file (``.dcm``, or with the ``DICM`` prefix, PS3.10 7.1)."""
    if path.suffix.lower() == ".dcm":
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(132)[128:] == b"DICM"
    except OSError:
        return False


def scan_images(root: Path, files: Iterable[Path]) -> list[SourceImage]:
    """The images among ``files`` (under ``root``), headers only.

    Each file's header is read once per process (:func:`pipeline.dicom.header_scan.file_header`).
    SEGs, non-DICOM files and headers without an image's attributes are left out.

    Raises
    ------
    RadpipeError
        Naming every file whose image size cannot be read: Rows without Columns (or the
        reverse), or Rows, Columns or NumberOfFrames not a positive integer.
    """
    out, bad = [], []
    for path in files:
        h = file_header(path)
        if h is None or h.sop_class in SEG_SOP_CLASSES or (not h.has_rows and h.columns is None):
            continue  # not DICOM (a mask, a CSV beside the images), a SEG, no image
        rel = path.relative_to(root).as_posix()
        size = image_size(h)
        if isinstance(size, str):
            bad.append(f"{rel}: {size}")
            continue
        frames, rows, columns = size
        single = frames == 1
        out.append(SourceImage(
            rel=rel, sop_uid=h.sop_uid, series_uid=h.series_uid,
            frame_of_reference=h.frame_of_reference, frames=frames, rows=rows, columns=columns,
            position=h.position if single else None,
            orientation=h.orientation if single else None,
            spacing=h.spacing if single else None,
        ))  # fmt: skip
    if bad:
        more = f"; and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        raise RadpipeError(f"{counted(len(bad), 'DICOM file')} with an image size that cannot "
                           f"be read (fix or remove them from data.source): "
                           f"{'; '.join(bad[:_SHOWN])}{more}")  # fmt: skip
    return out


def read_seg_masks(
    path: Path, name: str, images: list[SourceImage]
) -> dict[tuple[str, int], np.ndarray]:
    """The class-index mask of every image the SEG at ``path`` covers.

    ``{(SOPInstanceUID, frame from 0): class indices (rows, columns)}`` for every image of
    ``images`` in a series the SEG covers (``name``: its relative path, for messages);
    images no SEG frame references are all 0.

    Raises
    ------
    RadpipeError
        Not a SEG; images it references are not among ``images``; its frames' size is not
        its images'; segments overlap; no image lies on its frames.
    """
    seg = _read(path, name)
    referenced = {str(sop) for _, _, sop in seg.get_source_image_uids()}
    by_uid = {im.sop_uid: im for im in images}
    if referenced:
        missing = sorted(referenced - set(by_uid))
        if missing:
            raise RadpipeError(
                f"{name}: {len(missing)} of the {len(referenced)} images it references "
                "(ReferencedSeriesSequence) are not in data.source (a SEG of another copy of "
                "the series, or slices left out of the data?)"
            )
        series = {by_uid[u].series_uid for u in referenced}
        found = _by_reference(seg, name, [im for im in images if im.series_uid in series])
    else:
        found = _by_position(seg, name, images)
    return found


def held_segments(path: Path, name: str) -> set[int]:
    """The segment numbers that hold a pixel somewhere in the SEG at ``path``.

    Read from its frames alone (no source images needed): what its masks hold besides
    background.

    A LABELMAP frame's values are segment numbers; a BINARY or FRACTIONAL frame belongs to
    the segment its ReferencedSegmentNumber names (PS3.3 C.8.20.3), FRACTIONAL held at 0.5.

    Raises
    ------
    RadpipeError
        Not a SEG, or its pixel data cannot be decoded.
    """
    seg = _read(path, name)
    frames = decoded_frames(seg, name)
    kind = str(seg.get("SegmentationType", ""))
    if kind == "LABELMAP":
        return {int(v) for v in np.unique(frames)} - {0}
    least = 0.5 * float(seg.get("MaximumFractionalValue") or 1) if kind == "FRACTIONAL" else 1
    out = set()
    for i, frame in enumerate(frames):
        number = frame_segment(seg, i)
        if number is not None and (frame >= least).any():
            out.add(number)
    return out


def segment_labels(path: Path) -> dict[int, str]:
    """``{SegmentNumber: SegmentLabel}`` of the SEG at ``path`` (PS3.3 C.8.20.4).

    Empty when it cannot be read (its masks' reading says why).
    """
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SegmentSequence"])
        return {int(item.SegmentNumber): str(item.get("SegmentLabel") or "").strip()
                for item in ds.get("SegmentSequence") or []}  # fmt: skip
    except Exception:
        return {}


def _read(path: Path, name: str) -> Any:
    import highdicom as hd
    import pydicom

    try:
        header = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
    except Exception as err:
        raise RadpipeError(f"{name}: not a DICOM file ({type(err).__name__}).") from None
    sop_class = header.get("SOPClassUID")
    if str(sop_class or "") not in SEG_SOP_CLASSES:
        what = getattr(sop_class, "name", "") or "none"
        raise RadpipeError(f"{name}: not a DICOM Segmentation (SEG, PS3.3 A.51): its SOP class "
                           f"is {what}; a masks CSV names a DICOM file as a mask only when it "
                           "is a SEG.")  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return hd.seg.segread(path)
    except Exception as err:  # highdicom checks the SEG against the standard
        raise RadpipeError(f"{name}: highdicom cannot read it as a Segmentation: "
                           f"{type(err).__name__}: {sanitize(str(err))}") from None  # fmt: skip


def _by_reference(
    seg: Any, name: str, images: list[SourceImage]
) -> dict[tuple[str, int], np.ndarray]:
    """Every image of the covered series, its frames' segments by source reference."""
    if not indexed_by_segment(seg):
        return _by_frames(seg, name, images)
    out: dict[tuple[str, int], np.ndarray] = {}
    ordered = sorted(images, key=lambda im: im.rel)
    single = [im for im in ordered if im.frames == 1]  # one query for them all: ~40 ms each
    groups = ([single] if single else []) + [[im] for im in ordered if im.frames > 1]
    for group in groups:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if group[0].frames == 1:
                    stacks = seg.get_pixels_by_source_instance(
                        [im.sop_uid for im in group], assert_missing_frames_are_empty=True,
                        skip_overlap_checks=True,
                    )  # fmt: skip
                    keys = [(im, 0) for im in group]
                else:
                    stacks = seg.get_pixels_by_source_frame(
                        group[0].sop_uid, list(range(1, group[0].frames + 1)),
                        assert_missing_frames_are_empty=True, skip_overlap_checks=True,
                    )  # fmt: skip
                    keys = [(group[0], f) for f in range(group[0].frames)]
        except Exception as err:
            what = group[0].rel + (f" and {len(group) - 1} more images" if len(group) > 1 else "")
            raise RadpipeError(f"{name}: its frames of {what} cannot be read: "
                               f"{type(err).__name__}: {sanitize(str(err))}") from None  # fmt: skip
        for (im, frame), stack in zip(keys, stacks, strict=True):  # (rows, columns, segments)
            where = _where(im, frame)
            _check_size(name, stack.shape[:2], im, where)
            out[(im.sop_uid, frame)] = class_indices(stack, seg, name, where)
    return out


def _by_frames(seg: Any, name: str, images: list[SourceImage]) -> dict[tuple[str, int], np.ndarray]:
    """As :func:`_by_reference`, each SEG frame's segment and sources read frame by frame.

    :mod:`pipeline.dicom.seg_frames`: a SEG highdicom cannot query by source image.
    """
    numbers = [int(n) for n in seg.segment_numbers]
    frames = decoded_frames(seg, name)
    fraction = float(seg.get("MaximumFractionalValue") or 1)
    stacks = {(im.sop_uid, f): np.zeros((im.rows, im.columns, len(numbers)), np.float32)
              for im in images for f in range(im.frames)}  # fmt: skip
    rel = {im.sop_uid: im for im in images}
    for i, frame in enumerate(frames):
        number = frame_segment(seg, i)
        if number not in numbers:
            raise RadpipeError(f"{name}: its frame {i + 1} names no segment of its "
                               "SegmentSequence (ReferencedSegmentNumber).")  # fmt: skip
        for key in frame_references(seg, i):
            if key not in stacks:
                raise RadpipeError(f"{name}: its frame {i + 1} references a frame of no image "
                                   "of data.source (ReferencedFrameNumber).")  # fmt: skip
            _check_size(name, frame.shape, rel[key[0]], _where(rel[key[0]], key[1]))
            stacks[key][..., numbers.index(number)] = np.maximum(
                stacks[key][..., numbers.index(number)], frame / fraction
            )  # a BINARY frame's 1 is 1, a FRACTIONAL one's share of its maximum
    return {key: class_indices(stack, seg, name, _where(rel[key[0]], key[1]))
            for key, stack in stacks.items()}  # fmt: skip


def _where(im: SourceImage, frame: int) -> str:
    return im.rel if im.frames == 1 else f"{im.rel} frame {frame}"


def _check_size(name: str, shape: tuple[int, ...], im: SourceImage, where: str) -> None:
    if tuple(shape) != (im.rows, im.columns):
        raise RadpipeError(f"{name}: its frames are {shape[0]} x {shape[1]} (Rows x Columns) "
                           f"but its image {where} is {im.rows} x {im.columns}.")  # fmt: skip


def class_indices(stack: np.ndarray, seg: Any, name: str, where: str) -> np.ndarray:
    """One frame's segments as class indices: segment number ``N`` is ``N``.

    ``stack`` is (rows, columns, segments), in the order of ``seg.segment_numbers``.

    Raises
    ------
    RadpipeError
        Two segments hold one pixel.
    """
    numbers = [int(n) for n in seg.segment_numbers]
    fractional = str(seg.segmentation_type.value) == "FRACTIONAL"
    held = stack >= 0.5 if fractional else stack > 0
    counts = held.sum(axis=-1)
    if (counts > 1).any():
        both = held[counts > 1]  # (pixels, segments)
        pair = [numbers[i] for i in np.flatnonzero(both[0])][:2]
        raise RadpipeError(
            f"{name}: segments {pair[0]} and {pair[1]} overlap on {where} "
            f"({int((counts > 1).sum())} pixels in two segments or more): a class-index mask "
            "holds one class per pixel; save overlapping structures as separate SEGs of "
            "separate runs, or make them exclusive."
        )
    out = np.zeros(stack.shape[:2], np.uint8 if max(numbers, default=0) < 256 else np.uint16)
    for i, number in enumerate(numbers):
        out[held[..., i]] = number
    return out


def _by_position(
    seg: Any, name: str, images: list[SourceImage]
) -> dict[tuple[str, int], np.ndarray]:
    """A SEG without source references: the images on a plane of its volume.

    Every image of the series whose pixel grids are planes of the SEG's volume, in its frame
    of reference, and on one of its frames (background where the SEG has no frame).
    """
    ref = str(seg.get("FrameOfReferenceUID", ""))
    candidates = [im for im in images if ref and im.frame_of_reference == ref]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            volume = seg.get_volume()
    except Exception as err:
        raise RadpipeError(f"{name}: its frames reference no source images and do not make a "
                           f"volume in space ({type(err).__name__}: {sanitize(str(err))}), so no "
                           "image can be matched with them.") from None  # fmt: skip
    to_index = np.linalg.inv(np.asarray(volume.affine, dtype=np.float64))
    depth, rows, columns = volume.spatial_shape
    placed = [(im, _plane_index(im, to_index)) for im in sorted(candidates, key=lambda i: i.rel)]
    series = {im.series_uid for im, k in placed if k is not None and 0 <= k < depth}
    if not series:
        raise RadpipeError(f"{name}: its frames reference no source images, and no image of "
                           "data.source lies on them (FrameOfReferenceUID and "
                           "ImagePositionPatient).")  # fmt: skip
    out: dict[tuple[str, int], np.ndarray] = {}
    for im, k in placed:  # the series its frames lie on, other series of the space left be
        if im.series_uid not in series:
            continue
        _check_size(name, (rows, columns), im, im.rel)
        if k is not None and 0 <= k < depth:
            stack = np.asarray(volume.array[k]).reshape(rows, columns, -1)
            out[(im.sop_uid, 0)] = class_indices(stack, seg, name, im.rel)
        else:  # a slice of the series beyond or between its frames: background
            out[(im.sop_uid, 0)] = np.zeros((im.rows, im.columns), np.uint8)
    return out


def _plane_index(im: SourceImage, to_index: np.ndarray) -> int | None:
    """The slice index of the SEG volume that ``im``'s pixel grid is, or None."""
    if im.position is None or im.orientation is None or im.spacing is None:
        return None
    origin = np.asarray(im.position)
    along_row, along_column = np.asarray(im.orientation[:3]), np.asarray(im.orientation[3:])
    points = [origin, origin + along_row * im.spacing[1], origin + along_column * im.spacing[0]]
    found = [to_index @ np.append(p, 1.0) for p in points]  # (slice, row, column, 1)
    k = found[0][0]
    want = [(k, 0.0, 0.0), (k, 0.0, 1.0), (k, 1.0, 0.0)]
    if abs(k - round(k)) > _TOLERANCE:
        return None
    if not np.allclose([f[:3] for f in found], want, atol=_TOLERANCE):
        return None
    return round(k)
