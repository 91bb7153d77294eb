"""NM frames of several detectors or energy windows are views, not slices (PS3.3 C.8.4.8).

A whole-body bone scan holds its anterior and posterior views as the two frames of one file,
told apart by DetectorVector (0054,0020), which FrameIncrementPointer (0028,0009) names.
Without SliceVector those frames had no geometry and were stacked as two "slices" of one
volume (``--per series``: one NIfTI of shape 2 x H x W, the posterior view, seen from behind,
as the second slice of the anterior one), noted only as ``no geometry``. Each view is now its
own volume, in the order of its first frame; a DYNAMIC file's time slices stay together.
Expected frames by hand from the vectors written below.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.tag import Tag

from pipeline.dicom.volume import read_series
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

NM = "1.2.840.10008.5.1.4.1.1.20"
_VECTORS = {"EnergyWindowVector": 0x00540010, "DetectorVector": 0x00540020,
            "PhaseVector": 0x00540030, "TimeSliceVector": 0x00540100}  # fmt: skip


def _nm(image_type: str, **vectors: list[int]):  # type: ignore[no-untyped-def]
    n = len(next(iter(vectors.values())))
    ds = image_dataset(NM, "NM", 2, 3)
    ds.NumberOfFrames = n
    ds.PixelData = np.repeat(np.arange(n, dtype="<u2") * 10, 6).tobytes()  # frame k holds 10k
    ds.ImageType = ["ORIGINAL", "PRIMARY", image_type, "EMISSION"]
    ds.FrameIncrementPointer = [Tag(_VECTORS[k]) for k in vectors]
    for keyword, values in vectors.items():
        setattr(ds, keyword, values)
    ds.NumberOfDetectors = max(vectors.get("DetectorVector", [1]))
    ds.PixelSpacing = [2.0, 2.0]
    return ds


def _volumes(tmp_path: Path, ds) -> tuple[list[list[float]], list[dict[str, str]]]:  # type: ignore[no-untyped-def]
    """Each NIfTI volume's frame values (its slices' first pixel), and the manifest rows."""
    src = write_folder(tmp_path / "src", nm=ds)
    out = tmp_path / "out"
    convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    found = []
    for row in rows:
        data = np.asarray(nib.load(out / row["output"]).dataobj)  # (x, y, slice)
        found.append([float(v) for v in data[0, 0].ravel()])
    return found, rows


def test_whole_body_anterior_and_posterior_are_two_views(tmp_path: Path) -> None:
    ds = _nm("WHOLE BODY", EnergyWindowVector=[1, 1], DetectorVector=[1, 2])
    found, rows = _volumes(tmp_path, ds)
    assert found == [[0.0], [10.0]]  # one image each, not a volume of two slices
    assert [r["output"].endswith(s) for r, s in zip(rows, ("_s00.nii.gz", "_s01.nii.gz"))] == [
        True, True]  # fmt: skip
    assert [r["problems"] for r in rows] == ["", ""]  # the file says which view is which


def test_dynamic_time_slices_stay_together_per_detector(tmp_path: Path) -> None:
    ds = _nm("DYNAMIC", EnergyWindowVector=[1] * 6, DetectorVector=[1, 1, 1, 2, 2, 2],
             PhaseVector=[1] * 6, TimeSliceVector=[1, 2, 3, 1, 2, 3])  # fmt: skip
    found, _ = _volumes(tmp_path, ds)
    assert found == [[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]]


def test_energy_windows_of_a_static_image_are_views(tmp_path: Path) -> None:
    ds = _nm("STATIC", EnergyWindowVector=[1, 2, 1, 2], DetectorVector=[1, 1, 2, 2])
    found, rows = _volumes(tmp_path, ds)
    assert found == [[0.0], [10.0], [20.0], [30.0]]
    assert len({r["output"] for r in rows}) == 4


def test_one_view_is_one_image(tmp_path: Path) -> None:
    ds = _nm("STATIC", EnergyWindowVector=[1], DetectorVector=[1])
    found, rows = _volumes(tmp_path, ds)
    assert found == [[0.0]] and rows[0]["problems"] == ""


def test_the_views_note_is_not_split_by_its_own_separator(tmp_path: Path) -> None:
    """``read_series`` refuses two views, listing its notes joined by "; "; the views were
    joined by "; " too, so one note read as three."""
    ds = _nm("WHOLE BODY", EnergyWindowVector=[1, 1], DetectorVector=[1, 2])
    src = write_folder(tmp_path / "src", nm=ds)
    with pytest.raises(DicomError) as info:
        read_series(sorted(src.rglob("*.dcm")))
    assert (
        "2 volumes (split: 2 NM views by FrameIncrementPointer ([EnergyWindowVector 1, "
        "DetectorVector 1], [EnergyWindowVector 1, DetectorVector 2]), one volume each)"
    ) in str(info.value)
