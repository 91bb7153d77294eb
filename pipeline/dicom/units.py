"""The unit of an image's modality values, for the manifest's ``units`` column.

NIfTI and NPY outputs hold modality values, but neither says in what: a PET volume in Bq/ml
(Units (0054,1001) BQML, PS3.3 C.8.9.1.1.3) looks like one in SUV, counts or g/ml once it is a
bare array, and the manifest said nothing of it (dcm2niix writes the unit in its BIDS sidecar).
The unit is what the header says: PET Units, RT Dose DoseUnits (3004,0002), else the Modality
LUT's ModalityLUTType or RescaleType (:func:`pipeline.dicom.lut.value_units`; ``US``,
unspecified, says nothing), else HU for CT (the CT Image module defines its values as HU);
``""`` when the header says nothing (MR values are in no unit).

A CT or PET image without RescaleSlope and RescaleIntercept (and no Modality LUT Sequence) is
in no known unit: both are Type 1 there (PS3.3 C.8.2.1, C.8.9.4), and the stored values read
as slope 1, intercept 0 (pydicom's default) are HU or Bq/ml only by luck (an intercept of
-1024 dropped by an editing tool, pydicom #818, #1615). Its unit is ``""``, as for other values
whose unit the header leaves unsaid, and its series says why (:func:`missing_rescale_note`).
So is an image with one of the pair and not the other (:func:`half_rescale`, any modality):
the missing one is read as its default (slope 1, intercept 0), right or 1024 off for a CT, so
its values are in no unit the header makes sure of; the file's note says which one is missing
(:mod:`pipeline.dicom.header_checks`). Until 2026-12-03 its unit was claimed (``HU``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.dicom.lut import modality_ignored, value_units

__all__ = ["half_rescale", "missing_rescale", "missing_rescale_notes", "value_unit"]

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
    >>> ds.RescaleSlope, ds.RescaleIntercept = 0.5, 0
    >>> value_unit(ds)
    'Bq/ml'
    """
    modality = _text(ds.get("Modality"))
    if modality_ignored(ds) or missing_rescale(ds):  # stored values: in no unit said
        return ""
    if half_rescale(ds):  # one of the pair read as its default: in no unit known
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


def half_rescale(ds: Any) -> str:
    """The one of RescaleSlope/RescaleIntercept absent or empty beside the other, else ``""``.

    They come as a pair (PS3.3 C.11.1.1: both Type 1 where either is present); frame 0's Pixel
    Value Transformation group counts for an Enhanced object, and a Modality LUT Sequence
    (or a modality whose rescale is ignored) leaves no pair to miss.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.Modality, ds.RescaleIntercept = "CT", -1024
    >>> half_rescale(ds), value_unit(ds)
    ('RescaleSlope', '')
    """
    from pipeline.dicom.groups import attribute

    if ds.get("ModalityLUTSequence") or modality_ignored(ds):
        return ""
    group = "PixelValueTransformationSequence"
    given = {k: attribute(ds, group, k, 0) for k in ("RescaleSlope", "RescaleIntercept")}
    empty = [k for k, v in given.items() if v is None or not str(v).strip()]
    return empty[0] if len(empty) == 1 else ""


#: Modalities whose image module makes RescaleSlope/RescaleIntercept Type 1 and whose values
#: the header then names (CT: HU by the module; PET: its Units).
_RESCALED = frozenset({"CT", "PT"})


def missing_rescale(ds: Any) -> bool:
    """Whether ``ds`` is a CT or PET image with neither RescaleSlope nor RescaleIntercept.

    Frame 0's Pixel Value Transformation group counts for an Enhanced object; a Modality LUT
    Sequence maps the values instead. Such an image's values are its stored values.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.Modality = "CT"
    >>> missing_rescale(ds), value_unit(ds)
    (True, '')
    >>> ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    >>> missing_rescale(ds), value_unit(ds)
    (False, 'HU')
    """
    from pipeline.dicom.groups import attribute

    if _text(ds.get("Modality")) not in _RESCALED or modality_ignored(ds):
        return False
    if ds.get("ModalityLUTSequence"):
        return False
    group = "PixelValueTransformationSequence"
    found = (attribute(ds, group, k, 0) for k in ("RescaleSlope", "RescaleIntercept"))
    return all(value is None or not str(value).strip() for value in found)


def missing_rescale_notes(frames: Sequence[Any]) -> list[str]:
    """A series' notes of its CT or PET images without a rescale, one per modality.

    ``frames``: the series' :class:`~pipeline.dicom.frames.FrameRef` (``rescale`` ``None``:
    neither RescaleSlope, RescaleIntercept nor a Modality LUT Sequence). Colour images (a
    screen capture filed with the slices) have no rescale to miss.
    """
    notes = []
    for modality in sorted(_RESCALED):
        grey = [f for f in frames if f.modality == modality and not f.colour]
        missing = sum(f.rescale is None for f in grey)
        if not missing:
            continue
        unit = "HU" if modality == "CT" else "the Units (0054,1001) it names"
        module = (
            "CT Image module, PS3.3 C.8.2.1"
            if modality == "CT"
            else "PET Image module, PS3.3 C.8.9.4"
        )
        n = len(grey)
        which = f"{missing} of {n}" if missing < n else f"all {n}" if n > 1 else "its one"
        which += f" {modality} image" + ("s" if n > 1 else "")
        notes.append(
            f"no rescale: RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) missing on "
            f"{which} (Type 1 in the {module}): their values are the "
            "stored values (slope 1, intercept 0, as pydicom reads them), in a unit the header "
            f"does not say, so not claimed as {unit} (units column empty)"
        )
    return notes
