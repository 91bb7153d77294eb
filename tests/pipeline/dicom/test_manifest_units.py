"""The manifest's ``units`` column: what NIfTI/NPY outputs' modality values are measured in.

A PET volume in Bq/ml (Units (0054,1001) BQML) was written as a bare array with no word of its
unit, which tells it from SUV, counts or g/ml; dcm2niix writes it in its sidecar. Expected
values from PS3.3: C.8.9.1.1.3 (PET Units), C.8.8.3 (DoseUnits), C.11.1.1.2 (RescaleType; US
is unspecified), CT values are HU; windowed or PNG outputs are display values, no unit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from pipeline.dicom.units import value_unit
from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti

PET, CT = "1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.5.1.4.1.1.2"


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ({"Modality": "PT", "Units": "BQML"}, "Bq/ml"),
        ({"Modality": "PT", "Units": "CNTS"}, "counts"),
        ({"Modality": "PT", "Units": "GML"}, "g/ml (SUV bw)"),
        ({"Modality": "PT", "Units": "MLMING"}, "MLMING"),
        ({"Modality": "RTDOSE", "DoseUnits": "GY"}, "Gy"),
        ({"Modality": "CT"}, "HU"),
        ({"Modality": "CT", "RescaleType": "US"}, ""),
        ({"Modality": "OT", "RescaleType": "OD"}, "OD"),
        ({"Modality": "MR"}, ""),
        (
            {"Modality": "XA", "RescaleType": "OD", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.12.1"},
            "",
        ),
        # Defined terms in lower case are meant as them; Units is a PET attribute, DoseUnits
        # an RT Dose one; an XA SOP class's values are stored values whatever its Modality.
        ({"Modality": "PT", "Units": "bqml"}, "Bq/ml"),
        ({"Modality": "pt", "Units": "BQML"}, "Bq/ml"),
        ({"Modality": "CT", "Units": "BQML"}, "HU"),
        ({"Modality": "MR", "Units": "CNTS"}, ""),
        ({"Modality": "CT", "DoseUnits": "GY"}, "HU"),
        ({"Modality": "PT", "Units": "BQML", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.12.1"}, ""),
    ],
    ids=[
        "bqml",
        "counts",
        "suv",
        "other-term",
        "dose",
        "ct",
        "unspecified",
        "od",
        "mr",
        "xa",
        "lower-units",
        "lower-modality",
        "units-of-a-ct",
        "units-of-an-mr",
        "dose-units-of-a-ct",
        "pt-of-an-xa-class",
    ],
)
@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
def test_value_unit(values: dict[str, str], unit: str) -> None:
    ds = Dataset()
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0  # without: test_unrescaled_units
    for key, value in values.items():
        setattr(ds, key, value)
    assert value_unit(ds) == unit


def _series(folder: Path, sop_class: str, modality: str, **extra: object) -> Path:
    uid = generate_uid()
    found = {}
    for k in range(3):
        ds = image_dataset(sop_class, modality, 4, 4)
        ds.SeriesInstanceUID = uid
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 2 * k], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [2, 2], 0.5, 0
        for key, value in extra.items():
            setattr(ds, key, value)
        ds.PixelData = np.full(16, 10 * k, "<u2").tobytes()
        found[f"s{k}"] = ds
    return write_folder(folder, **found)


@pytest.mark.parametrize("fmt", ["nifti", "npy", "png"])
def test_pet_outputs_say_bq_per_ml_where_they_hold_modality_values(
    tmp_path: Path, fmt: str
) -> None:
    src = _series(tmp_path / "src", PET, "PT", Units="BQML", DecayCorrection="START")
    rows, errors, code = convert_nifti(src, tmp_path / "out", format=fmt)
    assert code == 0 and not errors
    assert {r["units"] for r in rows} == {"" if fmt == "png" else "Bq/ml"}


def test_windowed_volumes_have_no_unit(tmp_path: Path) -> None:
    src = _series(tmp_path / "src", CT, "CT")
    plain, _, _ = convert_nifti(src, tmp_path / "a")
    windowed, _, _ = convert_nifti(src, tmp_path / "b", window="lung")
    assert [r["units"] for r in plain] == ["HU"] and [r["units"] for r in windowed] == [""]
