"""DICOM files a DICOM run's masks CSV names as masks, checked before the run: only a DICOM
Segmentation (SEG) is read as masks.

A masks CSV naming another DICOM object as a mask (a multi-frame MR or CT image saved as the
"mask", a secondary capture of a drawing, an RT Structure Set) was refused only once the run
directory was made (``m/mf.dcm: not a DICOM Segmentation ... (line 2)``, exit 1).
:func:`dicom_masks_not_seg` reads each such file's SOP Class from its header (no pixel
data) with the other input checks: exit 2, nothing made.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from pipeline.cells import csv_rows, csv_text, name_lines
from pipeline.data.io import csv_path
from pipeline.words import are, counted

__all__ = ["dicom_masks_not_seg"]

_SHOWN = 5


def dicom_masks_not_seg(masks: Path, columns: list[str]) -> list[str]:
    """A problem listing the ``mask`` cells of the masks CSV ``masks`` that name a DICOM file
    (``.dcm`` or the ``DICM`` prefix) other than a SEG, each with its lines and what it is;
    empty when there is none.

    Returns
    -------
    list of str
        E.g. ``data.masks: 1 mask file named in masks.csv is a DICOM file but no DICOM
        Segmentation (SEG): m/mf.dcm (line 2: MR Image Storage); ...``.
    """
    from pipeline.dicom.header_scan import file_header
    from pipeline.dicom.seg_masks import SEG_SOP_CLASSES, is_dicom_file

    if "mask" not in columns:
        return []
    found: dict[str, list[int]] = defaultdict(list)
    what: dict[str, str] = {}
    for row in csv_rows(csv.DictReader(csv_text(masks))):
        name = (row.get("mask") or "").strip()
        path = csv_path(masks.parent, name) if name else None
        if path is None or not path.is_file() or not is_dicom_file(path):
            continue  # no file: said by missing_mask_files
        if name not in what:
            header = file_header(path)
            if header is None:
                what[name] = "not readable as DICOM"
            else:
                seg = header.sop_class in SEG_SOP_CLASSES
                what[name] = "" if seg else _sop_class_name(header.sop_class)
        if what[name]:
            found[name].append(row.line)
    if not found:
        return []
    listed = [f"{name} ({name_lines(lines)}: {what[name]})"
              for name, lines in list(found.items())[:_SHOWN]]  # fmt: skip
    more = f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
    n = len(found)
    return [
        f"data.masks: {counted(n, 'mask file')} named in {masks.name} {are(n)} DICOM but no "
        f"DICOM Segmentation (SEG, PS3.3 A.51): {', '.join(listed)}{more}; a DICOM file is "
        "read as masks only when it is a SEG: save each mask as a PNG or NPY of class indices "
        "in its image's rows x columns (one per image and frame), a NIfTI, or a DICOM SEG "
        "(highdicom, dcmqi)"
    ]


def _sop_class_name(uid: str) -> str:
    """The SOP Class's name from pydicom's dictionary, else ``SOP class UID`` and the UID (a
    standard UID, no patient data), or ``no SOP class`` when empty."""
    from pydicom.uid import UID

    if not uid:
        return "no SOP class"
    name = UID(uid).name
    return name if name and name != uid else f"SOP class {uid}"
