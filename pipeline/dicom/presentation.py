"""How a projection radiograph is meant to be shown: its polarity and its presentation intent.

- **Polarity.** MONOCHROME1 displays its minimum as white (PS3.3 C.7.6.3.1.2), and so does
  Presentation LUT Shape (2050,0020) INVERSE. In DX, MG and IO images the shape only restates
  the photometric term: the DX Image Module (PS3.3 C.8.11.3) says INVERSE "shall be used if
  Photometric Interpretation is MONOCHROME1" and IDENTITY if MONOCHROME2, so the image is
  inverted once either way (Weasis #372: inverting twice showed radiographs as negatives).
  Where the two disagree (MONOCHROME2 with INVERSE, MONOCHROME1 with IDENTITY: Fuji CR and DX
  files, dcm4che #944 / dcm4chee-arc-light #3155), the photometric term, which describes the
  pixel data itself, decides, as dcm4che's ``--noshape`` does, and a note says so. Other
  images (XA, secondary captures) keep the shape's word: INVERSE inverts.
- **Presentation LUT Sequence.** A Presentation LUT (2050,0010) belongs to a presentation
  state (PS3.3 C.11.6); pydicom's maintainers note it never appears in images (pydicom PR
  #2080). An image that carries one anyway is displayed without it, and a note says so
  (it was ignored unsaid).
- **Supplemental palette.** A grey image may carry a Supplemental Palette Color LUT (the
  Red/Green/Blue Palette Color Lookup Table Descriptors and Data beside MONOCHROME1/2, PS3.3
  C.7.6.19; Pixel Presentation (0008,9205) COLOR or MIXED): a viewer shows the stored values
  the palette covers in its colours, the rest grey (a colour-coded parametric map, colour flow
  over a grey image). radpipe writes grey values, so those pixels come out as grey levels of
  their values, which no viewer shows (vtk-dicom #237); a note says so (it was unsaid).
- **Presentation intent.** Presentation Intent Type (0008,0068) FOR PROCESSING (the DX, MG and
  IO "For Processing" SOP classes) marks raw detector values meant for computer processing,
  not for display (PS3.3 C.8.11.1.1.1): they lack the vendor's image processing that the FOR
  PRESENTATION image of the same view has, so beside those they look, and train, like another
  kind of image. They are converted as they are, and a note says so.
"""

from __future__ import annotations

from typing import Any

__all__ = ["presentation_inverse", "presentation_notes", "supplemental_palette_notes"]

#: SOP classes whose DX Image Module ties Presentation LUT Shape to the photometric term
#: (DX, MG and IO, for presentation and for processing).
_DX_FAMILY = {
    "1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1.1",
    "1.2.840.10008.5.1.4.1.1.1.2", "1.2.840.10008.5.1.4.1.1.1.2.1",
    "1.2.840.10008.5.1.4.1.1.1.3", "1.2.840.10008.5.1.4.1.1.1.3.1",
}  # fmt: skip
#: Projection radiography: a CR file written with the DX module's shape follows its rule too.
_DX_MODALITIES = {"CR", "DX", "MG", "IO"}
#: The "For Processing" SOP classes (DX, MG, IO, breast projection).
_FOR_PROCESSING = {
    "1.2.840.10008.5.1.4.1.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2.1",
    "1.2.840.10008.5.1.4.1.1.1.3.1", "1.2.840.10008.5.1.4.1.1.13.1.5",
}  # fmt: skip


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword)
    return value.strip().upper() if isinstance(value, str) else ""


def _ties_shape(ds: Any) -> bool:
    """The DX Image Module's rule applies: the shape restates the photometric term."""
    sop = str(ds.get("SOPClassUID", "") or "").strip()
    return sop in _DX_FAMILY or _text(ds, "Modality") in _DX_MODALITIES


def presentation_inverse(ds: Any) -> bool:
    """Whether the grey values display inverted (minimum white) after the VOI step."""
    photometric = _text(ds, "PhotometricInterpretation")
    shape = _text(ds, "PresentationLUTShape")
    if photometric == "MONOCHROME1":
        return True
    if photometric != "MONOCHROME2" or shape != "INVERSE":
        return False
    return not _ties_shape(ds)


def presentation_notes(ds: Any) -> list[str]:
    """What the polarity and presentation intent checks found (empty when nothing)."""
    notes = []
    photometric = _text(ds, "PhotometricInterpretation")
    shape = _text(ds, "PresentationLUTShape")
    pairs = {("MONOCHROME2", "INVERSE"): "black", ("MONOCHROME1", "IDENTITY"): "white"}
    shown = pairs.get((photometric, shape))
    if shown and _ties_shape(ds):
        notes.append(
            f"PresentationLUTShape (2050,0020) {shape} contradicts PhotometricInterpretation "
            f"(0028,0004) {photometric} (in DX, MG and IO images INVERSE goes with MONOCHROME1 "
            f"and IDENTITY with MONOCHROME2, PS3.3 C.8.11.3): displayed as {photometric} says, "
            f"its minimum {shown}"
        )
    if "PresentationLUTSequence" in ds:
        notes.append(
            "PresentationLUTSequence (2050,0010) not applied: a Presentation LUT belongs to a "
            "presentation state (PS3.3 C.11.6), not to an image, whose display polarity "
            "PhotometricInterpretation and PresentationLUTShape give (a viewer that applies "
            "it may show other grey levels)"
        )
    notes += supplemental_palette_notes(ds, photometric)
    intent = _text(ds, "PresentationIntentType")
    sop = str(ds.get("SOPClassUID", "") or "").strip()
    if intent == "FOR PROCESSING" or (not intent and sop in _FOR_PROCESSING):
        said = ("PresentationIntentType (0008,0068) is FOR PROCESSING" if intent
                else "its SOP class is a For Processing one")  # fmt: skip
        notes.append(
            f"{said}: raw detector values meant for computer processing, not for display "
            "(PS3.3 C.8.11.1.1.1), without the image processing of a FOR PRESENTATION image "
            "of the same view; converted as they are"
        )
    return notes


def supplemental_palette_notes(ds: Any, photometric: str) -> list[str]:
    """A note when a grey image carries a Supplemental Palette Color LUT (PS3.3 C.7.6.19).

    Its colours are not applied: the image is written as the grey values its
    PhotometricInterpretation says. The note gives the stored values the palette covers
    (the Red descriptor's first mapped value and entry count, 0 meaning 65536: C.7.6.3.1.5).
    """
    if not photometric.startswith("MONOCHROME"):
        return []
    descriptor = ds.get("RedPaletteColorLookupTableDescriptor")
    if descriptor is None:
        return _enhanced_palette_notes(ds, photometric)
    covered = ""
    try:
        count, first = int(descriptor[0]) or 65536, int(descriptor[1])
        covered = f" (stored values {first} to {first + count - 1})"
    except (TypeError, ValueError, IndexError):  # unreadable: the note names no range
        pass
    return [_palette_note(ds, "Supplemental Palette Color LUT (0028,1101-1103)", photometric,
                          f"the values it covers{covered} in its colours", "C.7.6.19")]  # fmt: skip


def _enhanced_palette_notes(ds: Any, photometric: str) -> list[str]:
    """A note when a grey Enhanced image carries an Enhanced Palette Color LUT (C.7.6.23).

    Its EnhancedPaletteColorLookupTableSequence (0028,140B) maps (part of) the values through
    a colour palette a viewer shows (Weasis #375: an Enhanced CT whose PixelPresentation
    (0008,9205) is COLOR); it is not applied, and was unsaid.
    """
    if not ds.get("EnhancedPaletteColorLookupTableSequence"):
        return []
    return [_palette_note(ds, "Enhanced Palette Color LUT (0028,140B)", photometric,
                          "them through its colour palette", "C.7.6.23")]  # fmt: skip


def _palette_note(ds: Any, what: str, photometric: str, shows: str, section: str) -> str:
    presentation = _text(ds, "PixelPresentation")
    said = f", PixelPresentation (0008,9205) {presentation}" if presentation else ""
    return (f"{what} not applied: written as the grey values {photometric} says, where a "
            f"viewer shows {shows} (PS3.3 {section}{said})")  # fmt: skip
