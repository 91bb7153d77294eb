"""The in-plane pixel spacing of an image, in mm at the patient, from whichever attribute holds it.

- **Pixel Spacing (0028,0030)** (per frame for enhanced objects): the spacing in the patient,
  used as it is, unless a projection radiograph writes it equal to Imager Pixel Spacing.
- **Imager Pixel Spacing (0018,1164)** (CR, DX, MG, XA, RF): the spacing *at the detector*
  (PS3.3 C.8.11.7). Anatomy between the source and the detector is magnified by about
  ``DistanceSourceToDetector / DistanceSourceToPatient``; when the file gives that factor
  (Estimated Radiographic Magnification Factor (0018,1114), else the two distances) the
  spacing at the patient is ``ImagerPixelSpacing / factor``, as IHE Mammography
  ("Mammography Image", Rev. 1.5, sect. 4.1) and viewers do (Weasis #465, dwv #1996,
  cornerstone3D #2387: measurements on mammograms were 8-10 % too large without it). A
  Pixel Spacing equal to Imager Pixel Spacing is not calibrated (the same page) and gets the
  same correction, unless Pixel Spacing Calibration Type (0028,0A02) says it is (GEOMETRY:
  corrected for the magnification, FIDUCIAL: against an object of known size; PS3.3
  C.10.7.1.3), as cornerstone3D PR #2704 reads it: divided again, it came out smaller by the
  factor. Without a factor the detector spacing is used as it is, with a note saying so.
  Never for a cross-sectional image (CT, MR, PT, NM, OCT, and the X-ray reconstructions:
  breast tomosynthesis, 3-D angiography, cone-beam craniofacial): its Pixel Spacing is in
  the patient whatever else the header holds.
- **Sequence of Ultrasound Regions (0018,6011)** (US without Pixel Spacing): Physical Delta X
  and Y (0018,602C/602E) of the regions whose physical units are cm in both directions
  (Physical Units X/Y Direction (0018,6024/6026) = 3), times 10; regions that disagree give
  no spacing, with a note, and so does an image that also holds regions measuring time or
  velocity (M-mode, Doppler): the spacing holds inside the spatial regions only.
"""

from __future__ import annotations

import math
from typing import Any

from pipeline.dicom.groups import attribute
from pipeline.dicom.values import first_number, spacing_pair
from pipeline.errors import DicomError

_CM = 3  # Physical Units X/Y Direction: 3 = cm (PS3.3 C.8.5.5.1.15)
_AGREE = 1e-6


def in_plane_spacing(ds: Any, frame: int, notes: list[str]) -> tuple[float, float] | None:
    """``(row spacing, column spacing)`` in mm at the patient, or ``None`` when unknown.

    Parameters
    ----------
    ds
        A pydicom (or plain) data set.
    frame
        0-based frame, for Pixel Measures in the functional groups.
    notes
        Gets a short message when a magnification factor was applied, when the detector
        spacing is used without one, or when ultrasound regions disagree.

    Raises
    ------
    DicomError
        (empty source) When a spacing attribute is not two finite numbers.
    """
    pixel = spacing_pair(attribute(ds, "PixelMeasuresSequence", "PixelSpacing", frame),
                         "PixelSpacing")  # fmt: skip
    try:
        imager = spacing_pair(attribute(ds, _FRAME_PIXELS, "ImagerPixelSpacing", frame),
                              "ImagerPixelSpacing")  # fmt: skip
    except DicomError:
        if pixel is None:
            raise
        imager = None  # Pixel Spacing is there: an unreadable detector spacing is not needed
    detector = pixel is not None and _same(pixel, imager or pixel) and not _sectional(ds)
    if imager is not None and (pixel is None or (detector and not _calibrated(ds, notes, frame))):
        if not _positive(imager, "ImagerPixelSpacing (0018,1164)", notes):
            return None
        return _at_patient(ds, imager, notes, pixel is not None, frame)
    if pixel is not None:
        if not _positive(pixel, "PixelSpacing (0028,0030)", notes):
            return None
        _regions_disagree(ds, pixel, notes)
        return pixel
    found = _ultrasound(ds, notes)
    if found is None:
        _aspect_note(ds, notes)
        _scanned_note(ds, notes)
    return found


def _scanned_note(ds: Any, notes: list[str]) -> None:
    """Say why a Secondary Capture's NominalScannedPixelSpacing (0018,2010) gives no spacing.

    It is the spacing on the digitized film or scanned document (PS3.3 C.8.6.1: "physical
    distance on the media being digitized or scanned"), not in the patient: a film may be a
    print of several images at any scale, or a radiograph magnified by its geometry, and the
    header gives neither. Unlike Imager Pixel Spacing (a detector's, at a known place in the
    beam) it is no stand-in for the patient's, so the spacing is left unknown, and said:
    a reader that saw the attribute unused could take the empty cell for a lost one.
    """
    try:
        scanned = spacing_pair(ds.get("NominalScannedPixelSpacing"), "NominalScannedPixelSpacing")
    except DicomError:
        scanned = None
    if scanned is not None:
        shown = "x".join(f"{v:g}" for v in scanned)
        notes.append(
            f"spacing unknown: NominalScannedPixelSpacing (0018,2010) {shown} mm is the spacing "
            "on the scanned film or document (PS3.3 C.8.6.1), not in the patient (the film's "
            "scale is not given), so no PixelSpacing is taken from it"
        )


def _aspect_note(ds: Any, notes: list[str]) -> None:
    """Say that the pixels are not square when only Pixel Aspect Ratio (0028,0034) says so.

    It is required exactly then: an aspect other than 1:1 and no spacing attribute (PS3.3
    C.7.6.3.1.7; older MR cine and ultrasound, 3D Slicer's and dwv #952's anisotropic pixels).
    Outputs hold the stored grid, so a picture of such pixels shown square is stretched, and
    a volume's voxels (spacing unknown) are not the cubes they seem.
    """
    try:
        vertical, horizontal = (float(v) for v in ds.get("PixelAspectRatio") or ())
    except (TypeError, ValueError):
        return
    if vertical > 0 and horizontal > 0 and not math.isclose(vertical, horizontal, rel_tol=1e-3):
        notes.append(
            f"pixels are not square: PixelAspectRatio (0028,0034) is {vertical:g}:{horizontal:g} "
            "(row:column height) and no spacing is given: outputs hold the stored grid, stretched "
            f"{vertical / horizontal:.4g}x in height when shown with square pixels"
        )


def _positive(spacing: tuple[float, ...], name: str, notes: list[str]) -> bool:
    """Whether both values are above 0; else a note (some exporters write zeros)."""
    if all(v > 0 for v in spacing):
        return True
    shown = "x".join(f"{v:g}" for v in spacing)
    notes.append(f"{name} is not positive ({shown}): spacing unknown")
    return False


#: Cross-sectional modalities: their PixelSpacing is in the patient by definition (PS3.3
#: C.7.6.2.1.1, a reconstructed plane), never a detector's; an ImagerPixelSpacing beside it
#: (not in their IODs) and the CT Image module's source distances (C.8.2.1) do not make it
#: one: divided by DistanceSourceToDetector / DistanceSourceToPatient, a CT slice's 0.7 mm
#: became 0.38 mm, its volume and every length in it 1.8 times too small.
_SECTIONAL = {"CT", "MR", "PT", "NM", "OPT", "OCT"}
#: X-ray reconstructions filed under a projection modality (XA, DX, MG): X-Ray 3D
#: Angiographic, X-Ray 3D Craniofacial and Breast Tomosynthesis Image Storage (PS3.3 A.53-A.55).
#: Their frames are planes reconstructed in the patient (Pixel Measures and Plane Position
#: functional groups), so their PixelSpacing is the patient's; the acquisition's
#: ImagerPixelSpacing and source distances beside it describe the projections they came from.
#: Viewers decide by SOP class too (OHIF / cornerstone3D ``getPixelSpacingInformation``: the
#: projection rule is for CR, DX, MG, IO, XA and RF classes only).
_RECONSTRUCTED_XRAY = {
    "1.2.840.10008.5.1.4.1.1.13.1.1", "1.2.840.10008.5.1.4.1.1.13.1.2",
    "1.2.840.10008.5.1.4.1.1.13.1.3",
}  # fmt: skip


def _sectional(ds: Any) -> bool:
    """Whether the image is a cross-section, its PixelSpacing the patient's.

    Of a cross-sectional modality (:data:`_SECTIONAL`) or a reconstructed X-ray volume
    (:data:`_RECONSTRUCTED_XRAY`).
    """
    sop = str(ds.get("SOPClassUID") or "").strip()
    return str(ds.get("Modality") or "").strip().upper() in _SECTIONAL or sop in _RECONSTRUCTED_XRAY


#: Pixel Spacing Calibration Type (0028,0A02)'s Enumerated Values (PS3.3 C.10.7.1.3).
_CALIBRATIONS = {"GEOMETRY", "FIDUCIAL"}


def _calibrated(ds: Any, notes: list[str], frame: int = 0) -> bool:
    """Whether Pixel Spacing Calibration Type (0028,0A02) says Pixel Spacing is calibrated.

    GEOMETRY or FIDUCIAL only (PS3.3 C.10.7.1.3). Any other value was taken for calibrated
    too, unsaid (a vendor's ``CALIBRATED``, a typo): it is read as no calibration now, with a
    note, and Pixel Spacing equal to Imager Pixel Spacing is the detector's, as without one.
    An Enhanced object holds it beside its PixelSpacing, in the frame's Pixel Measures group
    (PS3.3 C.7.6.16.2.1 includes the Basic Pixel Spacing Calibration Macro, 10.7.1), per
    frame or shared; read at the top level only, an Enhanced XA/XRF's GEOMETRY was missed
    and its calibrated PixelSpacing divided by the magnification again.
    """
    value = attribute(ds, "PixelMeasuresSequence", "PixelSpacingCalibrationType", frame)
    value = str(value or "").strip()
    if not value or value.upper() in _CALIBRATIONS:
        return bool(value)
    notes.append(
        f"PixelSpacingCalibrationType (0028,0A02) {value[:32]!r} is neither GEOMETRY nor "
        "FIDUCIAL (PS3.3 C.10.7.1.3): PixelSpacing (0028,0030) equal to ImagerPixelSpacing "
        "(0018,1164) is read as not calibrated"
    )
    return False


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(math.isclose(x, y, rel_tol=_AGREE) for x, y in zip(a, b, strict=True))


def _at_patient(
    ds: Any, imager: tuple[float, float], notes: list[str], equal: bool, frame: int = 0
) -> tuple[float, float]:
    """``imager`` divided by the magnification factor, noted.

    Without a factor, ``imager`` with a note that it is the detector's spacing (``equal``:
    PixelSpacing said the same).
    """
    factor, source = _magnification(ds, frame)
    if factor is None:
        why = ("PixelSpacing (0028,0030) equal to it, not calibrated" if equal
               else "no PixelSpacing (0028,0030)")  # fmt: skip
        notes.append(
            f"spacing at the detector: ImagerPixelSpacing (0018,1164) {imager[0]:g}x{imager[1]:g}"
            f" mm used as it is ({why}, no magnification factor (0018,1114) or source "
            "distances): lengths at the patient are smaller by the radiographic magnification"
        )
        return imager
    if math.isclose(factor, 1.0):
        return imager
    out = (imager[0] / factor, imager[1] / factor)
    notes.append(
        f"magnification corrected: ImagerPixelSpacing (0018,1164) {imager[0]:g}x{imager[1]:g} mm "
        f"at the detector / {source} {factor:.4g} = {out[0]:.4g}x{out[1]:.4g} mm at the patient"
    )
    return out


def _magnification(ds: Any, frame: int = 0) -> tuple[float | None, str]:
    """The radiographic magnification factor and where it came from (``None``: none usable).

    An enhanced XA/XRF image gives its distances per frame in the X-Ray Geometry functional
    group (PS3.3 C.8.19.6.10): DistanceSourceToDetector / DistanceSourceToIsocenter, the
    magnification at the isocenter (a classic XA's DistanceSourceToPatient is that distance).
    """
    try:
        factor = first_number(ds.get("EstimatedRadiographicMagnificationFactor"), "")
        if factor is not None and math.isfinite(factor) and factor > 0:
            return factor, "EstimatedRadiographicMagnificationFactor (0018,1114)"
        sid = first_number(attribute(ds, _GEOMETRY, "DistanceSourceToDetector", frame), "")
        sod = first_number(ds.get("DistanceSourceToPatient"), "")
        source = "DistanceSourceToDetector / DistanceSourceToPatient"
        if sod is None:
            sod = first_number(attribute(ds, _GEOMETRY, "DistanceSourceToIsocenter", frame), "")
            source = "DistanceSourceToDetector / DistanceSourceToIsocenter (0018,9402)"
    except Exception:  # an unreadable optional factor: the detector spacing stays
        return None, ""
    if sid and sod and sid > 0 and sod > 0 and math.isfinite(sid / sod):
        return sid / sod, source
    return None, ""


#: Enhanced XA/XRF functional groups (PS3.3 C.8.19.6): ImagerPixelSpacing is in the XA/XRF
#: Frame Pixel Data Properties group (0028,9443), not at the top level, and the source
#: distances in the X-Ray Geometry group (0018,9476). Read at the top level only, such an
#: image had no spacing at all ("PixelSpacing absent").
_FRAME_PIXELS, _GEOMETRY = "FramePixelDataPropertiesSequence", "XRayGeometrySequence"


def _ultrasound(ds: Any, notes: list[str]) -> tuple[float, float] | None:
    regions = ds.get("SequenceOfUltrasoundRegions") or []
    found, other, unusable = set(), [], []
    for region in regions:
        units = (region.get("PhysicalUnitsXDirection"), region.get("PhysicalUnitsYDirection"))
        dx, dy = region.get("PhysicalDeltaX"), region.get("PhysicalDeltaY")
        if units != (_CM, _CM) or dx is None or dy is None:
            if any(u in _UNITS for u in units):
                other.append(units)  # time, velocity...: a region that is no spatial calibration
            continue
        try:
            row, col = abs(float(dy)) * 10.0, abs(float(dx)) * 10.0
        except (TypeError, ValueError):
            continue
        if math.isfinite(row) and math.isfinite(col) and row > 0 and col > 0:
            found.add((round(row, 9), round(col, 9)))
        else:
            unusable.append(f"{dx}x{dy}")
    if unusable and not found:  # a region in cm that measures nothing: unsaid until now
        notes.append(
            "pixel spacing unknown: the ultrasound region(s) (0018,6011) calibrated in cm give "
            f"PhysicalDeltaX x PhysicalDeltaY {', '.join(unusable)} cm, no spacing"
        )
    if len(found) > 1:
        notes.append(
            f"pixel spacing unknown: {len(found)} ultrasound regions (0018,6011) with different "
            "PhysicalDeltaX/Y"
        )
        return None
    spacing = next(iter(found), None)
    if spacing is not None and other:
        _other_regions_note(spacing, other, notes)
    return spacing


def _regions_disagree(ds: Any, pixel: tuple[float, float], notes: list[str]) -> None:
    """Say when an ultrasound image's PixelSpacing (used) is not what its regions calibrate.

    One of the two is wrong, and measurements in mm follow the one used (a realcases25
    leftover: this was unsaid).
    """
    if "SequenceOfUltrasoundRegions" not in ds:
        return
    found = _ultrasound(ds, [])
    if found is not None and not _same(found, pixel):
        notes.append(
            f"spacing from PixelSpacing (0028,0030) {pixel[0]:g}x{pixel[1]:g} mm; the "
            f"ultrasound regions (0018,6011) calibrate {found[0]:g}x{found[1]:g} mm"
        )


#: Physical Units X/Y Direction (0018,6024/6026) other than none (0) and cm (PS3.3 C.8.5.5.1.15).
_UNITS = {1: "percent", 2: "dB", 4: "seconds", 5: "hertz", 6: "dB/seconds", 7: "cm/sec",
          8: "cm2", 9: "cm2/sec", 10: "cm3", 11: "cm3/sec", 12: "degrees"}  # fmt: skip


def _other_regions_note(
    spacing: tuple[float, float], other: list[tuple[Any, Any]], notes: list[str]
) -> None:
    """Say that the spacing holds in the spatial regions only.

    The regions of an M-mode or Doppler trace measure time or velocity (PS3.3 C.8.5.5.1;
    Weasis #227, cornerstoneTools PR #1466): the image's spacing would make their seconds or
    cm/s millimetres.
    """
    shown = " and ".join(  # no "; ": it parts one problem from the next (manifest)
        f"x in {_UNITS.get(x, 'cm' if x == _CM else 'no unit')}, "
        f"y in {_UNITS.get(y, 'cm' if y == _CM else 'no unit')}"
        for x, y in other
    )
    some = "1 other region measures" if len(other) == 1 else f"{len(other)} other regions measure"
    notes.append(
        "spacing of part of the image only: "
        f"{spacing[0]:g}x{spacing[1]:g} mm holds inside the ultrasound regions (0018,6011) "
        f"calibrated in cm, while {some} something else ({shown}: M-mode or Doppler), "
        "their pixels are not millimetres"
    )


__all__ = ["in_plane_spacing"]
