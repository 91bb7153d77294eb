"""The unit of an image's modality values, for the manifest's ``units`` column.

NIfTI and NPY outputs hold modality values, but neither says in what: a PET volume in Bq/ml
(Units (0054,1001) BQML, PS3.3 C.8.9.1.1.3) looks like one in SUV, counts or g/ml once it is a
bare array, and the manifest said nothing of it (dcm2niix writes the unit in its BIDS sidecar).
The unit is what the header says: PET Units, RT Dose DoseUnits (3004,0002), else the Modality
LUT's ModalityLUTType or RescaleType (:func:`pipeline.dicom.lut.value_units`; ``US``,
unspecified, says nothing), else HU for CT (the CT Image module defines its values as HU);
``""`` when the header says nothing (MR values are in no unit).
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom.lut import modality_ignored, value_units

__all__ = ["value_unit"]

#: PET Units (0054,1001) defined terms written out (PS3.3 C.8.9.1.1.3); others as written.
_PET = {"BQML": "Bq/ml", "CNTS": "counts", "CPS": "counts/s", "GML": "g/ml (SUV bw)",
        "CM2ML": "cm2/ml (SUV bsa)", "PCNT": "percent", "NONE": ""}  # fmt: skip
_DOSE = {"GY": "Gy", "RELATIVE": "relative"}


def _text(value: Any) -> str:
    return str(getattr(value, "value", value) or "").strip().upper()


def value_unit(ds: Any) -> str:
    """What the modality values of ``ds`` are measured in (``"HU"``, ``"Bq/ml"``), or ``""``.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.Modality, ds.Units = "PT", "BQML"
    >>> value_unit(ds)
    'Bq/ml'
    """
    modality = _text(ds.get("Modality"))
    if modality_ignored(ds):  # XA/XRF: the values written are the stored values
        return ""
    if modality == "PT" and _text(ds.get("Units")):
        units = _text(ds.get("Units"))
        return _PET.get(units, units)
    if modality == "RTDOSE" and _text(ds.get("DoseUnits")):
        units = _text(ds.get("DoseUnits"))
        return _DOSE.get(units, units)
    said = value_units(ds)[0]
    if said and said != "US":
        return said
    return "HU" if modality == "CT" and not said else ""
