"""``radpipe predict``'s masks of a DICOM series as one NIfTI label map per series.

The PNG masks (one per slice) and the DICOM SEG serve viewers and PACS; research tools
(nnU-Net, MONAI, ITK-SNAP, 3D Slicer) read a NIfTI label map on the image's own grid. Each
series is assembled as ``radpipe convert --format nifti`` assembles it (its headers planned by
:func:`~pipeline.dicom.volume.read_volumes` with the default geometry policy), and the
predicted slices are stacked in that volume's slice order: the label map's affine is the
converted image's exactly, and voxel ``[i, j, k]`` is the class index of column ``i``, row
``j`` of the volume's slice ``k``. A series whose conversion would be resampled (gantry tilt,
uneven steps), split into several volumes, or of which a slice was not predicted gets no
label map, and a warning says which and why (a stack of its slices would not lie on the
converted image's grid).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.words import counted

__all__ = ["write_label_niftis", "write_series_masks"]

log = logging.getLogger("radpipe")


def write_series_masks(
    out: Path, src: Path, planes: list[tuple[dict[str, Any], np.ndarray]], names: list[str]
) -> None:
    """Each series' predicted masks as a DICOM SEG (``out/seg``) and a NIfTI label map
    (``out/labels``), beside the PNG of each slice."""
    from pipeline.data.io import read_manifest
    from pipeline.dicom.seg import write_segmentations

    write_segmentations(out / "seg", src, planes, names)
    files: dict[str, set[str]] = defaultdict(set)  # every converted file of each series
    for row in read_manifest(out / "converted" / "manifest.csv"):
        files[row["series_key"]].add(row["source"])
    write_label_niftis(out / "labels", src, planes, files)


def write_label_niftis(
    out: Path,
    src: Path,
    planes: list[tuple[dict[str, Any], np.ndarray]],
    files: Mapping[str, Iterable[str]] | None = None,
) -> list[Path]:
    """Write ``out/<patient_key>/<series_key>.nii.gz`` (uint8 class indices) for each series
    of ``planes`` (manifest row, predicted mask at the source's size, per slice; ``src``:
    the DICOM folder the rows' ``source`` is relative to); returns the files written.
    ``files``: every file of each series (by key), which its volume is assembled from as
    convert assembles it (default: those of ``planes``; a series of which a file was not
    predicted is then not told from a shorter one)."""
    by_series: dict[tuple[str, str], list[tuple[dict[str, Any], np.ndarray]]] = defaultdict(list)
    for row, plane in planes:
        by_series[(row["patient_key"], row["series_key"])].append((row, plane))
    written, missed = [], []
    for (patient_key, series_key), items in by_series.items():
        try:
            sources = (files or {}).get(series_key) or {r["source"] for r, _ in items}
            volume, affine, place = _label_volume(src, items, sorted(sources))
        except RadpipeError as err:
            missed.append(f"series {series_key}: {err}")
            continue
        from pipeline.writers import write_nifti

        path = out / patient_key / f"{series_key}.nii.gz"
        written.append(write_nifti(path, volume, affine, labels=True, **place))
    if missed:
        log.warning("no NIfTI label mask for %s of %d (their PNG masks and DICOM SEG are "
                    "written): %s", counted(len(missed), "series"), len(by_series),
                    "; ".join(missed[:5]))  # fmt: skip
    return written


def _label_volume(
    src: Path, items: list[tuple[dict[str, Any], np.ndarray]], sources: list[str]
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """The ``(D, H, W)`` uint8 label volume of one series in the slice order of its converted
    volume, that volume's RAS affine, and ``write_nifti``'s placement arguments."""
    from pipeline.dicom.geometry import lps_to_ras
    from pipeline.dicom.groups import VOLUME_PLANE_NOTE

    by_frame = {(row["source"], int(row.get("frame") or 0)): plane for row, plane in items}
    plan = _series_plan(src, sources)
    if plan.refusal or len(plan.volumes) != 1:
        raise RadpipeError(plan.refusal or f"converted as {len(plan.volumes)} volumes")
    v = plan.volumes[0]
    if len(v.frames) != 1 or v.grid is not None or v.shifts is not None:
        raise RadpipeError("its conversion resamples or stacks time points: not one slice "
                           "per predicted mask")  # fmt: skip
    refs = [plan.frames[k] for k in v.frames[0]]
    absent = [r for r in refs if (r.source, r.frame) not in by_frame]
    if absent:
        raise RadpipeError(f"{counted(len(absent), 'slice')} of {len(refs)} not predicted")
    volume = np.stack([by_frame[(r.source, r.frame)] for r in refs]).astype(np.uint8)
    place = {"sheared": v.sheared, "spacing": v.spacing,
             "patient": VOLUME_PLANE_NOTE not in (*plan.notes, *v.problems)}  # fmt: skip
    return volume, None if v.affine is None else lps_to_ras(v.affine), place


def _series_plan(src: Path, sources: list[str]) -> Any:
    """The series planned as ``convert`` plans it (:func:`~pipeline.dicom.assemble.
    plan_series`), from its headers: the grid needs no pixels. Only frames that share a place
    are told apart by their pixels (digests: a repeat with identical pixels is dropped), so a
    series with such frames is read as ``convert`` reads it
    (:func:`~pipeline.dicom.volume.read_volumes`)."""
    from pipeline.dicom.assemble import plan_series
    from pipeline.dicom.duplicates import shared_places
    from pipeline.dicom.files import Problem
    from pipeline.dicom.frames import frame_refs
    from pipeline.dicom.header import read_dataset
    from pipeline.dicom.volume import read_volumes

    refs = []
    for rel in sources:
        ds = read_dataset(src / rel, rel)  # the header only
        if isinstance(ds, Problem):
            raise RadpipeError(f"{rel}: {ds.reason}")
        refs += frame_refs(ds, rel)
    if any(shared_places(refs)):
        return read_volumes(src, sources)[0]
    return plan_series(refs)
