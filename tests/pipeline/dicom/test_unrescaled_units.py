"""A CT or PET series without RescaleSlope/RescaleIntercept is not claimed as HU (or Bq/ml).

Both attributes are Type 1 in the CT Image and PET Image modules (PS3.3 C.8.2.1, C.8.9.4), but
exports and editing tools drop them (pydicom #818, #1615). Read as slope 1, intercept 0 (every
reader's default) the values are the stored values, in a unit the header does not say: the
manifest's ``units`` said ``HU`` of them, unsaid. Expected: the values pydicom's
``apply_modality_lut`` gives (stored 1064 stays 1064), ``units`` empty and one note per series
(inspect and convert), naming the attributes; with a rescale, ``HU`` and no note.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from pipeline.dicom.units import value_unit
from tests.pipeline.dicom.builders import item
from tests.pipeline.dicom.geometry_cases import CT, PET, plane, save
from workflows.cli import main

NOTE = "no rescale: RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) missing on all 3"


def _series(folder: Path, rescale: tuple[float, float] | None, pet: bool = False) -> Path:
    slices = []
    for k in range(3):
        ds = plane((0.0, 0.0, 2.0 * k), value=1064 + k, series="1.2.826.0.1.3680043.8.498.77",
                   sop_class=CT, InstanceNumber=k + 1)  # fmt: skip
        if pet:
            ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = PET
            ds.Modality, ds.Units = "PT", "BQML"
        if rescale is None:  # the builder gives CT and PET an identity rescale
            del ds.RescaleSlope, ds.RescaleIntercept
        else:
            ds.RescaleSlope, ds.RescaleIntercept = rescale
        slices.append(ds)
    return save(folder, slices, [f"s{k}" for k in range(3)])


def _convert(src: Path, out: Path, *options: str) -> list[dict[str, str]]:
    assert main(["convert", str(src), str(out), "--quiet", *options]) == 0
    return read_manifest(out / "manifest.csv")


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ({"Modality": "CT"}, ""),
        ({"Modality": "CT", "RescaleSlope": 1, "RescaleIntercept": -1024}, "HU"),
        # one given, the other read as its default: in no unit the header makes sure of
        ({"Modality": "CT", "RescaleIntercept": 0}, ""),
        ({"Modality": "PT", "Units": "BQML"}, ""),
        ({"Modality": "PT", "Units": "BQML", "RescaleSlope": 0.5, "RescaleIntercept": 0}, "Bq/ml"),
        ({"Modality": "MR"}, ""),
    ],
    ids=["ct-bare", "ct", "ct-intercept-only", "pt-bare", "pt", "mr"],
)
def test_value_unit_of_images_with_and_without_a_rescale(
    values: dict[str, object], unit: str
) -> None:
    ds = Dataset()
    for key, value in values.items():
        setattr(ds, key, value)
    assert value_unit(ds) == unit


def test_enhanced_ct_reads_the_rescale_of_its_functional_groups() -> None:
    ds = Dataset()
    ds.Modality = "CT"
    ds.PerFrameFunctionalGroupsSequence = Sequence([Dataset()])
    ds.SharedFunctionalGroupsSequence = Sequence([Dataset()])
    assert value_unit(ds) == ""
    transform = item(RescaleSlope=1, RescaleIntercept=-1024, RescaleType="HU")
    ds.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence = Sequence([transform])
    assert value_unit(ds) == "HU"


@pytest.mark.parametrize("fmt", ["nifti", "npy"])
def test_a_ct_without_rescale_is_written_in_stored_values_and_said(
    tmp_path: Path, fmt: str
) -> None:
    src = _series(tmp_path / "src", None)
    rows = _convert(src, tmp_path / "out", "--format", fmt)  # per series, per instance
    assert len(rows) == (1 if fmt == "nifti" else 3)
    for row in rows:
        assert row["units"] == ""
        assert row["problems"].count(NOTE) == 1
    files = [pydicom.dcmread(src / f"s{k}.dcm") for k in range(3)]
    expected = [float(apply_modality_lut(ds.pixel_array, ds)[0, 0]) for ds in files]
    assert expected == [1064.0, 1065.0, 1066.0]
    out = tmp_path / "out"
    load = (lambda p: np.asarray(nib.load(p).dataobj)) if fmt == "nifti" else np.load
    found = [load(out / r["output"]).ravel() for r in rows]
    assert sorted({float(v) for a in found for v in a}) == expected


def test_inspect_says_it_once_per_series(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _series(tmp_path / "src", None)
    assert main(["inspect", str(src)]) == 1  # a Type 1 attribute missing: a header defect
    assert capsys.readouterr().out.count(NOTE) == 1  # under its series, not per file
    assert main(["inspect", str(src), "--json"]) == 1
    (series,) = json.loads(capsys.readouterr().out)["patients"][0]["studies"][0]["series"]
    assert [p for p in series["problems"] if "no rescale" in p] == [
        NOTE + " CT images (Type 1 in the CT Image module, PS3.3 C.8.2.1): their values are the "
        "stored values (slope 1, intercept 0, as pydicom reads them), in a unit the header does "
        "not say, so not claimed as HU (units column empty)"
    ]


@pytest.mark.parametrize(
    ("rescale", "pet", "unit"),
    [((1, -1024), False, "HU"), ((1, 0), True, "Bq/ml"), (None, True, "")],
    ids=["ct", "pet", "pet-bare"],
)
def test_units_with_and_without_a_rescale(
    tmp_path: Path, rescale: tuple[float, float] | None, pet: bool, unit: str
) -> None:
    rows = _convert(_series(tmp_path / "src", rescale, pet), tmp_path / "out", "--format", "npy")
    assert {r["units"] for r in rows} == {unit}
    assert ("no rescale:" in rows[0]["problems"]) == (rescale is None)
