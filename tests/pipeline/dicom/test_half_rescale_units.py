"""A CT with one half of its rescale: noted, and its units no longer claimed as HU.

RescaleSlope and RescaleIntercept come as a pair (PS3.3 C.11.1.1). With one absent, the other
is read as its default (slope 1, intercept 0): a CT slice with slope 1 and no intercept holds
its stored values, 1024 above HU for an intercept of -1024 dropped. The note said so, while the
manifest's ``units`` still said ``HU``. Expected values by hand from the stored value 1064:
slope 1 and intercept -1024 give 40; the intercept alone (slope read as 1) 40; the slope alone
(intercept read as 0) 1064. (pydicom's ``apply_modality_lut`` applies neither half alone.)
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.geometry_cases import save
from tests.pipeline.dicom.test_missing_rescale import STORED, _series
from workflows.cli import main


@pytest.mark.parametrize("missing", ["RescaleSlope", "RescaleIntercept", None])
def test_units_are_empty_when_half_the_rescale_is_missing(
    tmp_path: Path, missing: str | None
) -> None:
    slices = _series([(1, -1024)] * 3)
    for ds in slices:
        if missing:
            delattr(ds, missing)
    src = save(tmp_path / "src", slices, ["s0", "s1", "s2"])
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with (out / "manifest.csv").open(newline="") as fh:
        (row,) = csv.DictReader(fh)
    volume = np.asarray(nib.load(out / row["output"]).dataobj)
    expected = STORED if missing == "RescaleIntercept" else STORED - 1024
    assert volume.ravel().tolist() == [expected] * volume.size
    if missing is None:
        assert (row["units"], row["problems"]) == ("HU", "")
        return
    assert row["units"] == ""
    other, default = (
        ("RescaleIntercept", "1") if missing == "RescaleSlope" else ("RescaleSlope", "0")
    )
    assert f"is absent beside {other} " in row["problems"]
    assert row["problems"].endswith(
        f"read as {default} (the pair is one mapping, PS3.3 C.11.1.1): its values may not be "
        "in the units meant, so no unit is claimed (units column empty)"
    )
