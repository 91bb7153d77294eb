"""One file's header: an :class:`Instance`, or a :class:`~pipeline.dicom.files.Problem`.

An :class:`Instance` holds the facts an index needs; a problem says why the file is not a
usable image.

:func:`read_header` and :func:`instance_from` never raise for bad input: a malformed value,
a truncated file, a decoder panic all become a problem naming the file and the tag. They
make the same checks :func:`pipeline.dicom.read.image_from_dataset` makes before decoding,
so ``inspect`` refuses what ``convert`` would refuse.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.dicom import files, header_checks, plain, plain_memo, values
from pipeline.dicom.burned_in import burned_in_note
from pipeline.dicom.decode import (
    DEFAULT_MAX_PIXELS,
    check_codestreams,
    check_pixel_size,
    frame_count,
    uses_file_size,
)
from pipeline.dicom.failed_slices import cut_short, located
from pipeline.dicom.files import Problem
from pipeline.dicom.frame_layout import optional_int as _int
from pipeline.dicom.frame_zero import deferred_frame_problem
from pipeline.dicom.frames import (
    STACK_KEYS,
    FrameRef,
    attribute,
    classic_frames,
    classic_refs,
    frame_refs,
)
from pipeline.dicom.frozen import made
from pipeline.dicom.header_checks import check_image_header
from pipeline.dicom.header_notes import decoding_notes
from pipeline.dicom.jpeg_colour import colour_notes
from pipeline.dicom.lossy_frames import deferred_lossy_note
from pipeline.dicom.notes import note_text
from pipeline.dicom.offset_table import mend_offset_table
from pipeline.dicom.plain_memo import memoized
from pipeline.dicom.reasons import read_failure
from pipeline.errors import DicomError


@dataclass(frozen=True)
class Instance:
    """Header facts about one DICOM file; ``path`` is relative to the indexed folder."""

    path: str
    size_bytes: int
    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str
    modality: str
    description: str
    rows: int
    columns: int
    frames: int
    transfer_syntax: str
    photometric: str
    instance_number: int | None
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    stack_values: tuple[Any, ...]
    frame_refs: tuple[FrameRef, ...] = ()
    notes: tuple[str, ...] = ()
    #: The digest of the header (:class:`~pipeline.dicom.plain.PlainDataset`) when the plain
    #: reading was clean (no notes, no refusal), else ``""``: a reading of the pixels with the
    #: same digest takes ``frame_refs`` as they are and skips the header checks, which found
    #: nothing in those bytes (see :func:`pipeline.dicom.volume.load_series`).
    header_digest: str = field(default="", compare=False)


def iter_files(root: Path) -> Iterator[Path]:
    """Every readable file under ``root``, in a stable order, skipping hidden files.

    :func:`pipeline.dicom.files.find_files` also yields the unreadable ones.
    """
    for found in files.find_files(root):
        if found.problem is None:
            yield Path(found.path)


def read_dataset(
    path: str | Path, rel: str, *, pixels: bool = False, max_bytes: int = 2**31
) -> Any:
    """See :func:`pipeline.dicom.files.read_dataset` (never raises for bad input)."""
    return files.read_dataset(path, rel, pixels=pixels, max_bytes=max_bytes)


def read_header(
    path: str | Path, root: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Instance | Problem:
    """Read one file's header (no pixels) into an :class:`Instance`, or a :class:`Problem`.

    Never raises for bad input; warnings raised while reading become the instance's notes
    (sanitized: no UIDs or values). A plain file is read by :mod:`pipeline.dicom.plain`
    (the same result, several times faster); any other file, or any file with a problem or
    a note, by pydicom.
    """
    rel = relative_name(path, root)
    fast = plain.try_plain(
        path, lambda ds: instance_facts(ds, rel, ds.file_size, max_pixels), is_clean
    )
    if fast is not None:
        return fast
    with files.captured_warnings() as caught:
        try:
            ds = read_dataset(path, rel)
            size = os.stat(path).st_size
            found = ds if isinstance(ds, Problem) else instance_from(ds, rel, size, max_pixels)
            if isinstance(found, Problem) and found.reason.startswith("truncated file"):
                found = cut_short(path, found)
        except files.FATAL:
            raise
        except BaseException as err:
            why = read_failure(err, files.sanitize(str(err)))
            found = Problem(rel, f"unreadable header: {why}")
    if isinstance(found, Instance) and caught:
        found = replace(found, notes=(*found.notes, *caught))
    return found


def relative_name(path: str | Path, root: str | Path) -> str:
    """``path`` relative to ``root``, ``/``-separated (as ``Path.relative_to``).

    A string under the root (what :func:`pipeline.dicom.walk.find_files` yields) is cut
    without a ``Path``: pathlib interns every name it parses, in a table that never shrinks.
    """
    if isinstance(path, str):
        top = os.path.join(os.fspath(root), "")
        if path.startswith(top) and os.sep == "/":
            return path[len(top) :]
    return Path(path).relative_to(root).as_posix()


def is_clean(found: Instance | Problem) -> bool:
    """Whether ``found`` is an instance without notes or refusals.

    Only such a result of :func:`pipeline.dicom.plain.try_plain` is kept.
    """
    return (
        isinstance(found, Instance)
        and not found.notes
        and not any(ref.refusal for ref in found.frame_refs)
    )


def instance_from(
    ds: Any, rel: str, size: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Instance | Problem:
    """Header facts of an image, or why the file is not a usable image (never raises).

    The checks are those :func:`pipeline.dicom.read.image_from_dataset` makes before
    decoding (pixel data present and long enough, under ``max_pixels``, usable values), so
    a file listed as an image here is not then refused for its header.
    """
    try:
        found = instance_facts(ds, rel, size, max_pixels)
    except DicomError as err:
        found = Problem(rel, err.reason)
    except files.FATAL:
        raise
    except BaseException as err:
        found = Problem(rel, f"malformed header: {read_failure(err, files.sanitize(str(err)))}")
    if isinstance(found, Problem) and not found.skipped:
        found = located(found, ds)
    return found


#: Segmentation Storage and Label Map Segmentation Storage (PS3.4 B.5): masks, not images.
#: Converted as images, a SEG's frames (one segment's mask per frame, empty frames left out)
#: were stacked by position as one series: a volume took one segment's slices and then
#: another's, and in a training folder the masks became inputs.
_SEGMENTATIONS = {"1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"}


#: Vendors' private non-image SOP classes found in MR exports (pydicom does not name them):
#: without pixel data they are skipped as not images, where they were errors ("no pixel data
#: (truncated file?)") that made every Siemens export with its protocol series exit 1.
_PRIVATE_NON_IMAGES = {
    "1.3.12.2.1107.5.9.1": "Siemens CSA Non-Image",
    "1.3.46.670589.11.0.0.12.1": "Philips Private MR Spectrum",
    "1.3.46.670589.11.0.0.12.2": "Philips Private MR Series Data",
    "1.3.46.670589.11.0.0.12.4": "Philips Private MR Examcard",
}


def _not_an_image(ds: Any, rel: str) -> Problem | None:
    meta = getattr(ds, "file_meta", None)
    classes = {str(ds.get("SOPClassUID", "")), str(meta.get("MediaStorageSOPClassUID", "")
                                                   if meta is not None else "")}  # fmt: skip
    if files.DICOMDIR_CLASS in classes or "DirectoryRecordSequence" in ds:
        return Problem(rel, "DICOMDIR (a directory of the media, not an image): skipped",
                       skipped=True)  # fmt: skip
    if classes & _SEGMENTATIONS or str(ds.get("Modality", "")).strip().upper() == "SEG":
        return Problem(rel, "a Segmentation (SEG: each frame is one segment's mask, not an "
                            "image; to use its masks, name it in a masks CSV's mask column): "
                            "skipped", skipped=True)  # fmt: skip
    sop = ds.get("SOPClassUID")
    name = str(getattr(sop, "name", "") or "")
    known = bool(name) and name != str(sop)  # pydicom names registered SOP classes only
    private = str(sop) in _PRIVATE_NON_IMAGES
    name = _PRIVATE_NON_IMAGES.get(str(sop), name)
    image = known and "Image" in name and not private
    if (known or private) and not image and "Rows" not in ds and not files.has_pixels(ds):
        return Problem(rel, f"not an image ({name}, no pixel data): skipped", skipped=True)
    return None


def instance_facts(ds: Any, rel: str, size: int, max_pixels: int) -> Instance | Problem:
    """:func:`instance_from` without its safety net: bad values raise ``DicomError``."""
    if plain_memo.active() and getattr(ds, "memo_reads", None) is not None:
        fast = _plain_instance(ds, rel, size, max_pixels)  # a plain reading in try_plain
        if fast is not None:
            return fast
    truncated = getattr(ds, "radpipe_truncated", None)
    if truncated:
        return Problem(rel, f"truncated file: {truncated}")
    skipped = memoized(_not_an_image, ds, "")  # named below: kept for every file of a series
    if skipped is not None:
        return replace(skipped, where=rel)
    if not files.has_pixels(ds):
        last = max(ds.keys(), default=0)
        why = f"the data set ends at ({last >> 16:04X},{last & 0xFFFF:04X}) without"
        if "SeriesInstanceUID" not in ds:
            return Problem(rel, f"truncated or incomplete file: {why} SeriesInstanceUID "
                                "(0020,000E) or pixel data")  # fmt: skip
        if "IconImageSequence" in ds:  # a thumbnail's pixels, not the image's: no truncation
            return Problem(rel, "no pixel data: the file holds only an icon image (a "
                                "thumbnail in IconImageSequence (0088,0200)), not the image's "
                                "PixelData (7FE0,0010)")  # fmt: skip
        return Problem(rel, f"no pixel data (truncated file?): {why} PixelData (7FE0,0010), "
                            "FloatPixelData or DoubleFloatPixelData")  # fmt: skip
    if not str(ds.get("SeriesInstanceUID") or "").strip("\x00 "):  # empty: no series either
        return Problem(rel, "no SeriesInstanceUID (0020,000E)" + " (empty)" * (
            "SeriesInstanceUID" in ds))  # fmt: skip
    notes = [*getattr(ds, "radpipe_notes", []), *check_image_header(ds)]
    room = size if uses_file_size(ds) else None  # the file's size matters to few syntaxes
    try:  # once per series for plain files, as the next line
        notes += memoized(_pixel_checks, ds, max_pixels, room)
        notes = list(dict.fromkeys([*notes, *decoding_notes(ds)]))  # convert's, said here too
    except DicomError as err:
        raise DicomError(rel, err.reason) from None
    series = memoized(_series_facts, ds)  # once per series for plain files
    return Instance(
        path=rel,
        size_bytes=size,
        sop_uid=str(ds.get("SOPInstanceUID", rel)),
        instance_number=_int(ds.get("InstanceNumber")),
        position=values.numbers_or_none(
            plane_attr(ds, "PlanePositionSequence", "ImagePositionPatient"), 3
        ),
        frame_refs=tuple(frame_refs(ds, rel)),
        notes=tuple(dict.fromkeys(map(note_text, notes))),  # each one note of a cell
        header_digest=getattr(ds, "header_digest", ""),
        **series,
    )


def _plain_instance(ds: Any, rel: str, size: int, max_pixels: int) -> Instance | None:
    """The facts of a clean classic plain file; ``None`` for another file.

    What its series shares is kept once per series (:func:`_plain_shared`); its own values
    are read here.

    The same facts the rest of :func:`instance_facts` finds (every check it makes passes
    without a note, so its only other values are these), with one kept result looked up
    instead of some eight per file. Raises :class:`~pipeline.dicom.plain_memo.NotClean` when
    a check notes something, so that :func:`~pipeline.dicom.plain.try_plain` reads the file
    with pydicom, as it would have after the note.
    """
    shared = memoized(_plain_shared, ds, max_pixels)
    if shared is None:
        return None
    # checked as check_image_header checks it (a bad one raises: read by pydicom then); the
    # top level's is the file's (a classic file has no functional groups to look in first)
    notes: list[str] = []
    position: Any = values.numbers(ds.get("ImagePositionPatient"), 3, "ImagePositionPatient", notes)
    if notes or burned_in_note(ds):  # said by check_image_header, on pydicom's reading
        raise plain_memo.NotClean
    sop_uid = str(ds.get("SOPInstanceUID", rel))
    number = _int(ds.get("InstanceNumber"))
    own = {"source": rel, "sop_uid": sop_uid, "instance_number": number}
    return made(Instance, {
        "path": rel,
        "size_bytes": size,
        "sop_uid": sop_uid,
        "instance_number": number,
        "position": position,
        "frame_refs": classic_refs(ds, own, position, shared),
        "header_digest": getattr(ds, "header_digest", ""),
        **shared["series"],
    })  # fmt: skip


def _plain_shared(ds: Any, max_pixels: int) -> dict[str, Any] | None:
    """What :func:`instance_facts` finds of a plain file that its series shares.

    ``None`` when the file is not a classic image (:func:`~pipeline.dicom.frames.classic_frames`)
    or not an image; raises :class:`~pipeline.dicom.plain_memo.NotClean` when a check notes
    something (see :func:`_plain_instance`).
    """
    if _not_an_image(ds, "") is not None or not files.has_pixels(ds):
        return None
    if "SeriesInstanceUID" not in ds or uses_file_size(ds):
        return None
    notes = header_checks.image_checks(ds) + header_checks.value_checks(ds)
    if notes or _pixel_checks(ds, max_pixels, None) or decoding_notes(ds):
        raise plain_memo.NotClean
    layout = classic_frames(ds)
    return None if layout is None else {**layout, "series": _series_facts(ds)}


def _pixel_checks(ds: Any, max_pixels: int, file_size: int | None) -> list[str]:
    """The checks of the pixel data element against the header; their notes, in order.

    Errors name no file (the caller names it).
    """
    notes: list[str] = []
    check_pixel_size(ds, "", max_pixels=max_pixels, notes=notes, file_size=file_size)
    ds = mend_offset_table(ds, frame_count(ds))  # the frames as the note on its table says
    notes += colour_notes(ds, check_codestreams(ds, "", max_pixels=max_pixels, notes=notes))
    if wrong := deferred_frame_problem(ds, max_pixels, frame_count(ds)):  # pixels not read
        raise DicomError("", wrong)
    return notes + deferred_lossy_note(ds)


def _series_facts(ds: Any) -> dict[str, Any]:
    """The facts of :class:`Instance` that the files of a series share (raises DicomError)."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    return {
        "patient_id": str(ds.get("PatientID", "")),
        "study_uid": str(ds.get("StudyInstanceUID", "")),
        "series_uid": str(ds.SeriesInstanceUID),
        "modality": str(ds.get("Modality", "")),
        "description": str(ds.get("SeriesDescription", "")),
        "rows": int(values.integer(ds, "Rows") or 0),
        "columns": int(values.integer(ds, "Columns") or 0),
        "frames": values.integer(ds, "NumberOfFrames", 1) or 1,
        "transfer_syntax": str(syntax) if syntax else "",
        "photometric": str(ds.get("PhotometricInterpretation", "")),
        "orientation": _orientation(
            plane_attr(ds, "PlaneOrientationSequence", "ImageOrientationPatient")
        ),
        "pixel_spacing": _pair(plane_attr(ds, "PixelMeasuresSequence", "PixelSpacing")),
        "stack_values": tuple(_plain(ds.get(k)) for k in STACK_KEYS),
    }


def plane_attr(ds: Any, group: str, keyword: str, frame: int = 0) -> Any:
    """``keyword`` of one frame.

    Per-frame, then Shared functional group, then the top level (see
    :func:`pipeline.dicom.frames.attribute`).
    """
    return attribute(ds, group, keyword, frame)


def _pair(value: Any) -> Any:
    try:
        return values.spacing_pair(value, "")
    except DicomError:
        return None


def _orientation(value: Any) -> Any:
    return values.orientation(value)  # parallel rows/columns: DicomError -> Problem


def _plain(value: Any) -> Any:
    return values.plain_value(value)
