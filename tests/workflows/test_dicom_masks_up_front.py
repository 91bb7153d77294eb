"""Two inputs of a DICOM run refused before the run, exit 2, no run directory (they were
refused once it was made, exit 1): a masks CSV naming a DICOM file that is no SEG as a mask
(a multi-frame image saved as the mask, a stray file), named with its lines and what it is;
a ``file``-keyed labels CSV naming a file not under data.source, with the run's message."""

from __future__ import annotations

from pathlib import Path

from pydicom.uid import CTImageStorage, EnhancedMRImageStorage, generate_uid

from tests.pipeline.dicom.builders import image_dataset
from tests.workflows.test_inputs_up_front import _cls, _refused, _run, _seg, _study


def test_a_dicom_mask_that_is_no_seg_is_refused_before_the_run(tmp_path: Path) -> None:
    tmp = _study(tmp_path)
    (tmp / "m").mkdir()
    ds = image_dataset(EnhancedMRImageStorage, "MR", 4, 4)
    ds.NumberOfFrames = 3
    ds.PixelData = bytes(4 * 4 * 3 * 2)
    ds.save_as(tmp / "m" / "mf.dcm", enforce_file_format=True)
    (tmp / "m" / "junk.dcm").write_bytes(b"not DICOM at all")
    (tmp / "m" / "ok.png").write_bytes(b"")  # not a DICOM file: not this check's
    masks = "sop_instance_uid,frame,mask\n"
    masks += "".join(f"1.2.3.{i},0,m/mf.dcm\n" for i in range(3))
    masks += f"{generate_uid()},0,m/junk.dcm\n1.2.9,0,m/ok.png\n"
    proc = _run(tmp, _seg(tmp, masks))
    _refused(proc, tmp, "data.masks: 2 mask files named in masks.csv are DICOM but no DICOM "
             "Segmentation (SEG, PS3.3 A.51): m/mf.dcm (lines 2, 3, 4: Enhanced MR Image Storage), "
             "m/junk.dcm (line 5: not readable as DICOM); a DICOM file is read as masks only "
             "when it is a SEG")  # fmt: skip
    assert "ok.png" not in proc.stderr


def test_a_file_keyed_labels_csv_with_a_missing_file_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    tmp = _study(tmp_path, "file,label\na.dcm,0\nmissing/x.dcm,1\n")
    ds = image_dataset(CTImageStorage, "CT", 4, 4)
    ds.PixelData = bytes(4 * 4 * 2)
    ds.save_as(tmp / "dicom" / "a.dcm", enforce_file_format=True)
    proc = _run(tmp, _cls(tmp))
    # it made the run directory, then said it and removed it (exit 1)
    _refused(proc, tmp, "data.labels: labels.csv: 1 problem with the 'file' column of the "
             "labels CSV", "not found under data.source (1): missing/x.dcm")  # fmt: skip
    assert "run directory" not in proc.stderr
