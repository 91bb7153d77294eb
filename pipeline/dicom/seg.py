r"""Predicted masks as DICOM Segmentation objects (PS3.3 A.51), via highdicom.

One SEG per series, referencing the source images it was predicted on, one segment per
foreground class (class index = segment number). The SEG carries the source's patient and
study attributes, as the standard requires; its file name is the hashed series key.

De-identified sources often lack Type 2 attributes of the Patient and General Study modules
(PatientBirthDate, PatientSex, ...): they are copied into the SEG present but empty (a
zero-length value, which Type 2 allows; PS3.5 7.4). A series whose SEG still cannot be made
is skipped with a warning naming the series key and the reason; the others are written.

Each segment is labelled with its class name. SegmentLabel (0062,0005) is an LO value: at
most 64 characters, no backslash (the value delimiter) and no control character; a class name
beyond that is labelled by its first 64 characters, ``\`` read as ``/`` and control characters
as spaces, with the name itself in the segment's SegmentDescription (0062,0006, ST). A class
name outside ASCII makes the SEG UTF-8 (:func:`seg_character_set`).
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.io_atomic import atomic_path

log = logging.getLogger("radpipe")


def write_segmentations(
    out: Path, src: Path, planes: list[tuple[dict[str, Any], np.ndarray]], names: list[str]
) -> list[Path]:
    """Write ``out/<patient_key>/<series_key>.dcm`` for every series in ``planes``.

    ``planes`` holds (manifest row, mask at the source's size) per predicted slice; rows of
    multi-frame sources are skipped (one SEG frame per single-frame source image here).
    """
    by_series: dict[tuple[str, str], list[tuple[dict[str, Any], np.ndarray]]] = defaultdict(list)
    for row, plane in planes:
        by_series[(row["patient_key"], row["series_key"])].append((row, plane))
    written = []
    for (patient_key, series_key), items in by_series.items():
        if any(int(row["num_slices"] or 1) > 1 and row["frame"] for row, _ in items):
            log.warning("series %s: multi-frame source, no DICOM SEG written", series_key)
            continue
        items.sort(key=lambda item: int(item[0]["slice_index"] or 0))
        groups = [(out / patient_key / f"{series_key}.dcm", items)]
        if len(items) > 1 and not _frame_of_reference(src / items[0][0]["source"]):
            # images not placed in one space (ultrasound): one SEG per image, as the standard
            # allows several frames only in a frame of reference
            groups = [(out / patient_key / f"{series_key}_{row['instance_key']}.dcm", [item])
                      for item in items for row in [item[0]]]  # fmt: skip
        for path, group in groups:
            try:
                _write_one(path, [src / row["source"] for row, _ in group],
                           np.stack([plane for _, plane in group]), names)  # fmt: skip
            except Exception as err:  # highdicom enforces the standard on the sources
                log.warning("no DICOM SEG written for series %s: %s: %s", series_key,
                            type(err).__name__, err)  # fmt: skip
                continue
            written.append(path)
    return written


def _frame_of_reference(path: Path) -> bool:
    """Whether the source image has a FrameOfReferenceUID (its header alone is read)."""
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["FrameOfReferenceUID"])
    return bool(ds.get("FrameOfReferenceUID"))


#: Type 2 attributes highdicom copies from the sources (Patient, General Study modules).
TYPE2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
                "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber")  # fmt: skip


def _with_type2(ds: Any) -> Any:
    """``ds`` with every missing attribute of :data:`TYPE2_COPIED` added, empty."""
    for keyword in TYPE2_COPIED:
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds


def _write_one(path: Path, sources: list[Path], labels: np.ndarray, names: list[str]) -> None:
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    from pipeline.version import radpipe_version

    images = [_with_type2(pydicom.dcmread(p)) for p in sources]
    version = radpipe_version()
    algorithm = hd.AlgorithmIdentificationSequence(
        name="radpipe", version=version, family=codes.cid7162.ArtificialIntelligence
    )
    segments = [
        _described(hd.seg.SegmentDescription(
            segment_number=k,
            segment_label=segment_label(names[k]),
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm,
        ), names[k])
        for k in range(1, len(names))
    ]  # fmt: skip
    with warnings.catch_warnings():
        # highdicom's advice on the source's own person names (a PatientName without '^')
        # quotes the name: not printed, as no output names the patient (README, privacy)
        warnings.filterwarnings("ignore", message="The string .* is unlikely to represent")
        seg = _segmentation(hd, images, labels, segments, version, seg_character_set(images, names))
    with atomic_path(path) as tmp:
        seg.save_as(tmp)


def segment_label(name: str) -> str:
    r"""``name`` as an LO value (PS3.5 6.2): no backslash or control character, 64 at most.

    Examples
    --------
    >>> segment_label("left\\right lung")
    'left/right lung'
    >>> len(segment_label("x" * 80))
    64
    """
    text = name.replace("\\", "/")
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)[:64]


def _described(segment: Any, name: str) -> Any:
    """The segment with the class name as its SegmentDescription when its label is not it."""
    if segment_label(name) != name:  # the LO label was cut or changed: 80 'x' were written
        segment.SegmentDescription = name  # as such (pydicom warns only), a\\b as 2 values
    return segment


def seg_character_set(images: list[Any], names: list[str] | None = None) -> str | None:
    r"""The SEG's SpecificCharacterSet (0008,0005): ``ISO_IR 192`` where a source has one.

    Or where a class name (a segment's label) is not ASCII.
    Without it a class name such as ``肺结节`` was written as ``???`` (pydicom's replacement
    characters, in the default repertoire) and ``Läsion`` in Latin-1 bytes the SEG does not
    declare; both keep every character in UTF-8.

    The SEG carries the sources' patient and study text (PatientName, ReferringPhysicianName, ...),
    decoded by pydicom from the sources' character set; written as UTF-8, every character
    of every character set keeps its meaning. The sources' own value was passed on by
    highdicom, which refuses many a real one: ``\ISO 2022 IR 87`` (Japanese, value 1 empty
    for ISO 2022 IR 6 as PS3.3 C.12.1.1.2 allows) or a misspelt ``ISO_IR100`` that pydicom
    reads, so no SEG was written ("'' is not a valid SpecificCharacterSetValues").
    """
    declared = {str(im.get("SpecificCharacterSet") or "").strip() for im in images}
    text = not all(name.isascii() for name in names or [])
    return "ISO_IR 192" if text or declared - {"", "ISO_IR 6", "['ISO_IR 6']"} else None


def _segmentation(hd: Any, images: list[Any], labels: np.ndarray, segments: list[Any],
                  version: str, charset: str | None) -> Any:  # fmt: skip
    return hd.seg.Segmentation(
        source_images=images,
        pixel_array=labels.astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=segments,
        series_instance_uid=hd.UID(),
        series_number=900,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="radpipe",
        manufacturer_model_name="radpipe",
        software_versions=version,
        device_serial_number="radpipe",
        series_description="radpipe prediction",
        specific_character_set=charset,
    )
