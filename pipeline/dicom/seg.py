"""Predicted masks as DICOM Segmentation objects (PS3.3 A.51), via highdicom.

One SEG per series, referencing the source images it was predicted on, one segment per
foreground class (class index = segment number). The SEG carries the source's patient and
study attributes, as the standard requires; its file name is the hashed series key.
"""

from __future__ import annotations

import logging
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
        path = out / patient_key / f"{series_key}.dcm"
        _write_one(path, [src / row["source"] for row, _ in items],
                   np.stack([plane for _, plane in items]), names)  # fmt: skip
        written.append(path)
    return written


def _write_one(path: Path, sources: list[Path], labels: np.ndarray, names: list[str]) -> None:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    images = [pydicom.dcmread(p) for p in sources]
    try:
        version = package_version("radpipe")
    except PackageNotFoundError:
        version = "unknown"
    algorithm = hd.AlgorithmIdentificationSequence(
        name="radpipe", version=version, family=codes.cid7162.ArtificialIntelligence
    )
    segments = [
        hd.seg.SegmentDescription(
            segment_number=k,
            segment_label=names[k],
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm,
        )
        for k in range(1, len(names))
    ]
    seg = hd.seg.Segmentation(
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
    )
    with atomic_path(path) as tmp:
        seg.save_as(tmp)
