"""The header checks every image reader shares, so ``inspect`` refuses what ``convert`` would.

Each check either notes a recovered defect or raises :class:`~pipeline.errors.DicomError` naming the
keyword and tag, what was expected and what was found. The Image Pixel values checked here
are the ones pydicom's decoders require (``pydicom.pixels.common.RunnerBase``): a file they
accept is not then refused at decoding for its header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.uid import UID

from pipeline.dicom import lut, plain_memo, values
from pipeline.dicom.burned_in import burned_in_note
from pipeline.dicom.codestream import is_jpeg_family, planar_note
from pipeline.dicom.padding import lone_limit_note
from pipeline.dicom.palette import check_palette
from pipeline.dicom.pixel_elements import check_pixel_elements
from pipeline.dicom.presentation import presentation_notes
from pipeline.dicom.syntaxes import (
    GE_PRIVATE,
    RLE_LOSSLESS,
    ge_private_note,
    unreadable_syntax,
)
from pipeline.dicom.text_charset import utf8_read_as_latin1
from pipeline.dicom.values import integer, tag_name
from pipeline.dicom.voi_lut import frame_voi_luts
from pipeline.dicom.window_values import frame_window
from pipeline.dicom.ybr422 import pairs_note
from pipeline.errors import DicomError

__all__ = ["PHOTOMETRIC_TERMS", "check_image_header", "image_checks", "value_checks"]

#: PhotometricInterpretation (0028,0004) terms pydicom's decoders know (PS3.3 C.7.6.3.1.2).
PHOTOMETRIC_TERMS = ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL",
                     "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420", "YBR_PARTIAL_422",
                     "HSV", "ARGB", "CMYK")  # fmt: skip
#: Rows and Columns are US (PS3.3 C.7.6.3): 1..65535.
_US_MAX = 2**16 - 1


def check_image_header(ds: Any) -> list[str]:
    """The header checks of every image reader; returns notes, raises on what is unusable.

    Checks Rows, Columns, BitsAllocated, SamplesPerPixel, NumberOfFrames, geometry values
    and rescale values, so that ``inspect`` refuses exactly what ``convert`` would.

    The result is kept on the data set (``radpipe_header_notes``), so the index and the
    reader of one file check its header once.

    Raises
    ------
    DicomError
        Naming the tag (the caller fills in the file).
    """
    done = getattr(ds, "radpipe_header_notes", None)
    if done is not None:
        return list(done)
    notes = [*_checked_header(ds), *filter(None, [burned_in_note(ds)])]  # the file's own
    ds.radpipe_header_notes = tuple(notes)
    return notes


def _photometric(ds: Any) -> None:
    """Refuse a missing PhotometricInterpretation (0028,0004), or one not one text value.

    It is Type 1 (PS3.3 C.7.6.3.1.2) and every decoder needs it; whether its term is one
    they know, the decoders say.
    """
    value = ds.get("PhotometricInterpretation")
    name = tag_name("PhotometricInterpretation")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DicomError("", f"{name} is missing: the pixels cannot be read without it.")
    if not isinstance(value, str):
        # bytes (a wrong VR: OB, UN) are one value, however long
        n = len(value) if hasattr(value, "__len__") and not isinstance(value, bytes) else 1
        what = f"{n} values" if n != 1 else _non_text(value)
        raise DicomError("", f"{name} must be one text value (MONOCHROME2, RGB, ...); got {what}.")


def _non_text(value: Any) -> str:
    """What a value that should be text is, in words (``the number 5``, ``binary data``)."""
    if isinstance(value, int | float):
        return f"the number {value}"
    return "binary data" if isinstance(value, bytes) else "a value that is not text"


def _photometric_term(ds: Any, notes: list[str]) -> None:
    """Refuse a PhotometricInterpretation (0028,0004) term no decoder knows (``MONOCHROMU2``).

    Read as the reader reads it (stripped, upper case); a lower-case ``monochrome2`` (CS is
    upper case, PS3.5 6.2) or one with a leading space passes, noted (it passed unsaid).
    """
    written = str(ds.get("PhotometricInterpretation"))
    term = written.strip().upper()
    if term not in PHOTOMETRIC_TERMS:
        raise DicomError("", f"{tag_name('PhotometricInterpretation')} must be a defined term "
                             f"(MONOCHROME1, MONOCHROME2, PALETTE COLOR, RGB, YBR_FULL, ...); "
                             f"got {_shown(term, 16, _term_char)}.")  # fmt: skip
    if written.rstrip(" \x00") != term:  # trailing spaces pad a CS value: nothing to say
        notes.append(f"{tag_name('PhotometricInterpretation')} is written {written!r}, not as "
                     f"the defined term (upper case, PS3.5 6.2): read as {term}")  # fmt: skip


def _term_char(c: str) -> bool:
    return c.isalnum() or c in " _"


def _shown(text: str, limit: int, fits: Callable[[str], bool]) -> str:
    """A damaged value for a message, shown or only measured.

    Shown when it is at most ``limit`` characters, each one ``fits`` what the value should
    hold; else only its size, since it may hold anything (a name).
    """
    if len(text) <= limit and all(fits(c) for c in text):
        return repr(text)
    return f"text of {len(text)} characters (not shown)"


def _syntax(ds: Any, notes: list[str]) -> None:
    """Refuse a TransferSyntaxUID (0002,0010) that names no transfer syntax DICOM defines.

    A damaged one (``1.2.840.10008.1.2.5.90``, ``1.2.840.q0008.1.2.1``) or a private one: no
    decoder reads its pixel data, which ``convert`` found out only when it tried. One DICOM
    defines whose pixel data nothing here reads (JPEG XL, JPIP Referenced, ...) is refused
    with its name (:func:`~pipeline.dicom.syntaxes.unreadable_syntax`).
    """
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    unreadable = None if syntax is None else unreadable_syntax(str(syntax))
    if unreadable is not None:
        raise DicomError("", unreadable)
    if str(syntax or "").strip() == GE_PRIVATE:
        notes.append(ge_private_note(ds))
        return
    if syntax is None or UID(str(syntax)).is_transfer_syntax:
        return
    shown = _shown(str(syntax), 64, "0123456789.".__contains__)
    raise DicomError("", "TransferSyntaxUID (0002,0010) is no transfer syntax DICOM defines "
                         f"(got {shown}): no decoder can read the pixel data.")  # fmt: skip


def _samples(ds: Any, notes: list[str]) -> None:
    """Refuse a SamplesPerPixel (0028,0002) other than 1 or 3, or than the term needs.

    PS3.3 C.7.6.3.1.1-2: MONOCHROME1/2 and PALETTE COLOR have 1 sample per pixel, RGB and the
    YBR terms 3; colour needs PlanarConfiguration (0028,0006) 0 or 1 (C.7.6.3.1.3, Type 1C),
    which every decoder of native data reads (compressed data: see
    :func:`~pipeline.dicom.codestream.planar_note`, noted in ``notes``).
    """
    samples = integer(ds, "SamplesPerPixel", None, minimum=1)
    if samples is not None and samples not in (1, 3):
        raise DicomError("", f"{tag_name('SamplesPerPixel')} must be 1 (grey, palette) or 3 "
                             f"(colour); got {samples}.")  # fmt: skip
    term = str(ds.get("PhotometricInterpretation")).strip().upper()
    needs = 1 if term.startswith("MONOCHROME") or term == "PALETTE COLOR" else 3
    said = f"{tag_name('PhotometricInterpretation')} {term} has {needs}"
    if samples is None:  # Type 1 (PS3.3 C.7.6.3); read as 1, as the decoders default it
        what = f"{tag_name('SamplesPerPixel')} is missing"
        if needs != 1 and term in PHOTOMETRIC_TERMS:
            raise DicomError("", f"{what} (read as 1) but {said}.")
        notes.append(f"{what}: read as 1, as {said}")
        samples = 1
    if term in PHOTOMETRIC_TERMS and term not in ("ARGB", "CMYK") and samples != needs:
        raise DicomError("", f"{tag_name('SamplesPerPixel')} is {samples} but {said}.")
    if samples != 3:
        return
    if integer(ds, "PixelRepresentation", 0, maximum=1) == 1:  # the decoder reads them so
        notes.append(f"{tag_name('PixelRepresentation')} is 1 (signed), but colour samples "
                     "are unsigned intensities (a signed RGB or YBR sample has no colour "
                     "meaning): read as 0")  # fmt: skip
    meta = getattr(ds, "file_meta", None)
    _unconverted_colour(term, meta.get("TransferSyntaxUID") if meta is not None else None, notes)
    planar = integer(ds, "PlanarConfiguration", None, maximum=1)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    note = planar_note(syntax, planar) or pairs_note(term, syntax, planar)
    if note is not None:
        notes.append(note)
    elif planar is None:
        raise DicomError("", "PlanarConfiguration (0028,0006) is missing: colour pixels cannot "
                             "be read without it (0: RGBRGB..., 1: RR..GG..BB...).")  # fmt: skip


#: Colour terms whose samples are neither RGB nor a YCbCr that pydicom converts, in data no
#: decoder transforms: HSV and YBR_PARTIAL_422 are retired, YBR_PARTIAL_420 is defined for
#: MPEG-2 / H.264 streams only (PS3.3 C.7.6.3.1.2).
_NO_RGB = ("HSV", "YBR_PARTIAL_422", "YBR_PARTIAL_420")
#: JPEG 2000 and HTJ2K transfer syntaxes (last UID component): YBR_ICT / YBR_RCT are theirs.
_J2K = ("90", "91", "92", "93", "201", "202", "203")


def _unconverted_colour(term: str, syntax: str | None, notes: list[str]) -> None:
    """Refuse colour samples outside any codestream that nothing would turn into RGB.

    Uncompressed (or RLE) pixel data of a term in ``_NO_RGB`` was written as if RGB: a red
    pixel stored as partial-range YCbCr (81, 90, 240) came out (81, 90, 240), unsaid.
    YBR_ICT / YBR_RCT name a JPEG 2000 stream's colour transform, which its decoder undoes
    (PS3.5 8.2.4); outside one they are the samples of a decompressed stream whose header
    was not updated: read as RGB, noted. RLE YBR_FULL_422 is YBR_FULL: RLE holds each sample
    of every pixel (PS3.5 G.2), nothing subsampled; read so, as pydicom, dcm2niix and GDCM
    read it, noted (the term is wrong, and it was unsaid). The samples of a JPEG-LS, JPEG 2000
    or lossless JPEG stream are the decoder's, which converts none of ``_NO_RGB`` either:
    refused alike (until 2026-12-04 written as RGB, unsaid); a lossy JPEG stream's markers
    say its colours (:mod:`pipeline.dicom.jpeg_colour`).
    """
    last, jpeg = str(syntax or "").rpartition(".")[2], is_jpeg_family(syntax)
    if jpeg and (last in ("50", "51") or (term not in _NO_RGB and last in _J2K)):
        return  # lossy T.81: its markers say; YBR_ICT / YBR_RCT: the JPEG 2000 family's own
    where = "RLE" if str(syntax or "") == RLE_LOSSLESS else "uncompressed"
    where = UID(str(syntax)).name if jpeg else where
    name = tag_name("PhotometricInterpretation")
    if term in _NO_RGB:
        raise DicomError("", f"{name} {term} in {where} pixel data is not read: its samples are "
                             "not RGB, and radpipe converts only YBR_FULL and YBR_FULL_422 to "
                             "RGB there (PS3.3 C.7.6.3.1.2: HSV and YBR_PARTIAL_422 are "
                             "retired, YBR_PARTIAL_420 is for MPEG streams); written as RGB, "
                             "the colours would be wrong.")  # fmt: skip
    if term == "YBR_FULL_422" and where == "RLE":
        notes.append(f"{name} is YBR_FULL_422, but RLE Lossless holds every sample of every "
                     "pixel, one segment per sample (PS3.5 G.2): nothing is subsampled, so the "
                     "term is wrong: read as YBR_FULL (as pydicom, dcm2niix and GDCM read it) "
                     "and converted to RGB")  # fmt: skip
    if term in ("YBR_ICT", "YBR_RCT"):
        notes.append(f"{name} {term} outside a JPEG 2000 stream (PS3.5 8.2.4: it names the "
                     "stream's colour transform, which the decoder undoes): the samples are "
                     "read as RGB, as a decompressed stream's are")  # fmt: skip


def _frame_groups(ds: Any, notes: list[str]) -> None:
    """One Per-frame Functional Groups item per frame (PS3.3 C.7.6.16.1).

    With fewer items than NumberOfFrames, the frames past them have no position, rescale or
    window of their own: an Enhanced CT's last frame was written in stored values, not HU
    (its Pixel Value Transformation item missing), noted only as missing geometry. Refused;
    more items than frames are noted (the extra items describe no frame).
    """
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return
    items = len(ds.PerFrameFunctionalGroupsSequence or [])
    frames = integer(ds, "NumberOfFrames", 1, minimum=0) or 1
    said = (f"PerFrameFunctionalGroupsSequence (5200,9230) holds {items} items but "
            f"{tag_name('NumberOfFrames')} says {frames}")  # fmt: skip
    if items < frames:
        which = (
            f"frame {items} has"
            if frames - items == 1
            else (f"frames {items} to {frames - 1} have")
        )
        raise DicomError("", f"{said}: {which} no position, rescale or window of its own (one "
                             "item per frame, PS3.3 C.7.6.16).")  # fmt: skip
    if items > frames:
        notes.append(f"{said}: the last {items - frames} items describe no frame")


def _bits(ds: Any, notes: list[str]) -> None:
    """BitsAllocated one of 1, 8, 16, 32, 64; BitsStored in 1..BitsAllocated, else noted.

    A BitsStored absent from integer pixel data is read as BitsAllocated (every bit used),
    as the reader does, and noted.
    """
    bits = integer(ds, "BitsAllocated", None, minimum=1)
    if bits is not None and bits not in (1, 8, 16, 32, 64):
        raise DicomError("", f"{tag_name('BitsAllocated')} must be 1, 8, 16, 32 or 64; got {bits}.")
    stored = integer(ds, "BitsStored", None, minimum=1, maximum=bits or 64)
    if stored is not None and bits is None:
        raise DicomError("", f"{tag_name('BitsAllocated')} is missing.")
    if stored is None and bits is not None and "PixelData" in ds:
        notes.append(f"{tag_name('BitsStored')} is missing: read as BitsAllocated ({bits})")
    if bits == 1 and integer(ds, "PixelRepresentation", 0) == 1:  # see bits.signed_pixels
        notes.append(f"{tag_name('PixelRepresentation')} is 1 (signed), but 1-bit pixels are "
                     "0 or 1 (sign-extended, a set bit would read -1): read as 0 (unsigned), "
                     "as pydicom reads them")  # fmt: skip


def _checked_header(ds: Any) -> list[str]:
    """All the checks, in order.

    Those of values a series repeats are done once per series for plain files
    (:mod:`pipeline.dicom.plain_memo`); the slice position is checked every time.
    """
    notes = plain_memo.memoized(image_checks, ds)
    if "ImagePositionPatient" in ds:
        values.numbers(ds.get("ImagePositionPatient"), 3, "ImagePositionPatient", notes)
    return notes + plain_memo.memoized(value_checks, ds)


def image_checks(ds: Any) -> list[str]:
    """The checks of the Image Pixel values; their notes, in order.

    Sizes, photometric, samples, palette, syntax, frames, bits, spacing. Raises
    ``DicomError`` (no file named).
    """
    notes: list[str] = []
    for keyword in ("Rows", "Columns"):
        if integer(ds, keyword, minimum=1, maximum=_US_MAX) is None:
            raise DicomError("", f"{tag_name(keyword)} is missing.")
    _photometric(ds)
    _photometric_term(ds, notes)
    _samples(ds, notes)
    notes += check_palette(ds)  # refuses tables that cannot map; notes their counts
    _syntax(ds, notes)
    if integer(ds, "NumberOfFrames", 1, minimum=0) == 0:  # read as 1 (decode.frame_count)
        notes.append(f"{tag_name('NumberOfFrames')} is 0 (it counts the frames, at least 1; "
                     "PS3.3 C.7.6.6): read as 1 frame")  # fmt: skip
    _frame_groups(ds, notes)
    _bits(ds, notes)
    check_pixel_elements(ds, notes)
    notes += utf8_read_as_latin1(ds)
    if integer(ds, "PixelRepresentation", None, maximum=1) is None and "PixelData" in ds:
        notes.append(f"{tag_name('PixelRepresentation')} is missing (Type 1, PS3.3 C.7.6.3): "
                     "stored values read as unsigned, as PixelRepresentation 0 says")  # fmt: skip
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        if keyword in ds:
            values.spacing_pair(ds.get(keyword), keyword, notes)
    return notes + presentation_notes(ds)


def value_checks(ds: Any) -> list[str]:
    """The checks of orientation, rescale, Modality LUT, windows and VOI LUTs; their notes.

    Raises ``DicomError`` (no file named).
    """
    notes: list[str] = []
    if "ImageOrientationPatient" in ds:
        values.orientation(ds.get("ImageOrientationPatient"), notes)
    for keyword in ("RescaleSlope", "RescaleIntercept"):
        if keyword in ds:
            values.first_number(ds.get(keyword), keyword, notes)
    notes += _half_rescale(ds) + lone_limit_note(ds)
    seq = ds.get("ModalityLUTSequence")
    notes += [n for n in (lut.empty_lut_note(ds),) if n]  # present, no item: taken for none
    # every output applies it: unusable means refused, here as in the reader (not XA/XRF's)
    if seq and not lut.modality_ignored(ds):
        signed = integer(ds, "PixelRepresentation", 0, maximum=1) == 1
        if lut.modality_lut(ds, "", lut.little_endian(ds), signed, notes) is None:
            notes.append(lut.lut_fallback(ds))  # unusable beside a rescale: the rescale, said
        else:
            notes += _rescale_beside_lut(ds)
    # Window and VOI LUT serve only --window header: noted, never refused (as the reader does,
    # per frame from an Enhanced object's Frame VOI LUT groups)
    # per frame only as far as there are Per-frame groups: a forged NumberOfFrames (4294967295)
    # must not make a list per frame (it was a MemoryError); the pixel-size check refuses it
    n = min(max(1, integer(ds, "NumberOfFrames", 1, minimum=0) or 1),
            len(ds.get("PerFrameFunctionalGroupsSequence") or (None,)))  # fmt: skip
    windows: dict[str, None] = {}
    for frame in range(n if "PerFrameFunctionalGroupsSequence" in ds else 1):
        windows[frame_window(ds, frame)[1] or ""] = None
    frame_voi_luts(ds, "", notes, n)
    return notes + [note for note in windows if note]


def _half_rescale(ds: Any) -> list[str]:
    """A note when one of RescaleSlope/RescaleIntercept is given and the other absent or empty.

    They come as a pair (PS3.3 C.11.1.1: both Type 1 where either is present): the missing
    one is read as pydicom's default (slope 1, intercept 0), which may not be what the
    writer meant. Unsaid, a CT slice whose RescaleIntercept was emptied sat 1024 above its
    neighbours in the volume (found by ``benchmarks/fuzz_header_bytes.py``).
    """
    from pipeline.dicom.groups import attribute
    from pipeline.dicom.units import half_rescale

    missing = half_rescale(ds)
    if not missing:
        return []
    other = "RescaleIntercept" if missing == "RescaleSlope" else "RescaleSlope"
    given = attribute(ds, "PixelValueTransformationSequence", other, 0)
    default = "1" if missing == "RescaleSlope" else "0"
    return [f"{tag_name(missing)} is {'empty' if missing in ds else 'absent'} beside "
            f"{other} {str(given).strip()[:16]!r}: read as {default} (the pair is one "
            "mapping, PS3.3 C.11.1.1): its values may not be in the units meant, so no unit "
            "is claimed (units column empty)"]  # fmt: skip


def _rescale_beside_lut(ds: Any) -> list[str]:
    """A note when RescaleSlope/Intercept other than 1 and 0 sit beside a Modality LUT Sequence.

    PS3.3 C.11.1: one or the other. The LUT is applied and the rescale ignored, as pydicom
    and fo-dicom (#1986, where mixing them made an image near black) do; unsaid, a slope of
    0.01 beside a LUT left values 100 times what the rescale alone would give.
    """
    slope = values.first_number(ds.get("RescaleSlope"), "RescaleSlope")
    intercept = values.first_number(ds.get("RescaleIntercept"), "RescaleIntercept")
    if (slope is None or slope == 1) and not intercept:
        return []
    shown = f"{1 if slope is None else slope:g} and {intercept or 0:g}"
    return [f"Modality LUT Sequence (0028,3000) applied, RescaleSlope/RescaleIntercept "
            f"(0028,1053)/(0028,1052) {shown} beside it ignored (PS3.3 C.11.1: one or the "
            "other; as pydicom and fo-dicom do)"]  # fmt: skip
