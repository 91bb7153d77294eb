"""A localizer filed among an MR (or any) series' slices, flagged or only in another plane.

dcm2niix stacks no image of another orientation ("Slices not stacked: orientation varies
(vNav or localizer?)") and takes an Image Type that marks a scout apart. radpipe split both
off, but a one-image localizer of another plane, acquired first, was ``_s00`` and the slices
``_s01`` (the volume a user takes for the series was the scout), said only as "2
orientations"; an Image Type of ``SCOUT`` (rather than ``LOCALIZER``) was stacked among the
slices. Now the largest group of one plane comes first and the note says what the others
are; ``SCOUT`` is a scout in any modality.

Expected by construction: four axial MR slices at z = 0, 2, 4, 6 mm holding 100 (k + 1), a
scout holding 900.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.pipeline.dicom.geometry_cases import plane, save
from workflows.cli import main

SERIES = "1.2.826.0.1.3680043.8.498.3702"
MR_TYPE = ["ORIGINAL", "PRIMARY", "M", "ND"]
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


def _slices() -> list[Dataset]:
    return [plane((0.0, 0.0, 2.0 * k), value=100 * (k + 1), series=SERIES, ImageType=MR_TYPE,
                  InstanceNumber=k + 2) for k in range(4)]  # fmt: skip


def _convert(tmp_path: Path, scout: Dataset) -> tuple[Path, list[dict[str, str]]]:
    # the scout is acquired first and its file sorts first
    src = save(tmp_path / "src", [scout, *_slices()], ["a0", "b1", "b2", "b3", "b4"])
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        return out, sorted(csv.DictReader(f), key=lambda r: r["source"])


def _volumes(out: Path, rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    by_volume = {r["volume"]: r["output"] for r in rows}
    assert sorted(by_volume) == ["0", "1"]
    assert by_volume["0"].endswith("_s00.nii.gz") and by_volume["1"].endswith("_s01.nii.gz")
    return tuple(np.asarray(nib.load(out / by_volume[v]).dataobj) for v in "01")  # type: ignore[return-value]


def test_a_localizer_in_another_plane_comes_after_the_slices_and_is_said(tmp_path: Path) -> None:
    scout = plane((0.0, -40.0, 3.0), CORONAL, value=900, series=SERIES, ImageType=MR_TYPE,
                  InstanceNumber=1)  # fmt: skip
    out, rows = _convert(tmp_path, scout)
    slices, found = _volumes(out, rows)
    assert slices[0, 0, :].tolist() == [100, 200, 300, 400]
    assert set(found.ravel().tolist()) == {900}
    assert {r["source"]: r["volume"] for r in rows} == {"a0.dcm": "1", "b1.dcm": "0"}
    for row in rows:
        assert row["problems"].startswith(
            "split: 2 orientations, image sizes or pixel spacings in one series, one volume "
            "each (1 image in another plane than the 4 of the first volume, a localizer or "
            "another stack: not stacked with them)"
        )


@pytest.mark.parametrize("word", ["SCOUT", "LOCALIZER"])
def test_an_mr_scout_by_image_type_is_apart_from_the_slices(tmp_path: Path, word: str) -> None:
    """In the slices' plane, between two of them: only its Image Type tells it apart."""
    scout = plane((0.0, 0.0, 3.0), value=900, series=SERIES, InstanceNumber=1,
                  ImageType=["ORIGINAL", "PRIMARY", word])  # fmt: skip
    out, rows = _convert(tmp_path, scout)
    slices, found = _volumes(out, rows)
    assert slices[0, 0, :].tolist() == [100, 200, 300, 400]  # no interpolated scout
    assert set(found.ravel().tolist()) == {900}
    what = "a scout" if word == "LOCALIZER" else "a localizer"
    assert rows[1]["problems"] == (
        f"split: 2 image types in one series (ImageType ORIGINAL\\PRIMARY, ORIGINAL\\PRIMARY\\"
        f"{word}: a {word} is {what} planning the slices, not one of them), one volume each"
    )
