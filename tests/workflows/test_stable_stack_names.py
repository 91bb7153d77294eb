"""A series' volume numbers (``_sNN``) stay put when one of its files fails, and on rerun.

One SeriesInstanceUID with three SeriesNumbers at one position (dcm_qa_ts): three volumes,
``_s00``, ``_s01``, ``_s02`` in SeriesNumber order. With the second file damaged (its header
cut short, or its JPEG undecodable) the third was written as ``_s01``, and renamed ``_s02``
once the file was mended. Expected names by construction: SeriesNumber n is volume n - 1.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G
from tests.workflows.test_failed_repeats import _truncate, _undecodable
from workflows.cli import main


def _outputs(out: Path) -> dict[str, str]:
    """``{source: output}`` from the manifest, each output checked to hold its source."""
    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:  # n1 holds 10, n3 30
        value = 10 * int(row["source"][1])
        assert np.asarray(nib.load(out / row["output"]).dataobj).ravel().tolist() == [value] * 64
    return {r["source"]: r["output"].split("/")[-1] for r in rows}


@pytest.mark.parametrize("damage", [_truncate, _undecodable], ids=["header", "pixels"])
def test_a_failed_volume_renames_no_other_volume(tmp_path: Path, damage: object) -> None:
    series = generate_uid()
    files = [G.plane((0.0, 0.0, 0.0), value=10 * n, series=series, SeriesNumber=n)
             for n in (1, 2, 3)]  # fmt: skip
    src = G.save(tmp_path / "in", files, ["n1", "n2", "n3"])
    clean = tmp_path / "clean"
    assert main(["convert", str(src), str(clean), "--format", "nifti", "--quiet"]) == 0
    named = _outputs(clean)
    key = named["n1.dcm"].split("_s")[0]
    assert named == {f"n{n}.dcm": f"{key}_s0{n - 1}.nii.gz" for n in (1, 2, 3)}

    good = (src / "n2.dcm").read_bytes()
    damage(src / "n2.dcm")  # type: ignore[operator]
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    assert _outputs(out) == {s: named[s] for s in ("n1.dcm", "n3.dcm")}
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1  # resume
    assert _outputs(out) == {s: named[s] for s in ("n1.dcm", "n3.dcm")}

    (src / "n2.dcm").write_bytes(good)  # mended: the rerun adds n2's volume, renames none
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    assert _outputs(out) == named
    shutil.rmtree(clean)


def test_two_volumes_keep_their_suffix_when_one_fails(tmp_path: Path) -> None:
    """A series of two volumes, one failed: the other keeps ``_s01`` (it lost its suffix)."""
    series = generate_uid()
    files = [G.plane((0.0, 0.0, 0.0), value=10 * n, series=series, SeriesNumber=n)
             for n in (1, 2)]  # fmt: skip
    src = G.save(tmp_path / "in", files, ["n1", "n2"])
    _undecodable(src / "n1.dcm")
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    (name,) = _outputs(out).values()
    assert name.endswith("_s01.nii.gz")
