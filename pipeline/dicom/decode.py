"""Decode DICOM pixel data to stored values, safely.

Native (uncompressed little-endian) grey-scale data is read with :func:`numpy.frombuffer`,
which is several times faster than the general path; everything else (big endian, 1-bit,
colour, compressed syntaxes through the pylibjpeg / pyjpegls plugins) goes through pydicom.
Either way the result is masked to BitsStored and sign-extended (PS3.5 8.1.1: bits above
HighBit are undefined), and the header is checked against the data length and a pixel limit
before anything is allocated.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.uid import MPEGTransferSyntaxes, RLELossless

from pipeline.dicom import codestream, values
from pipeline.dicom.bits import fix_bits, signed_pixels
from pipeline.dicom.colour_bits import colour_options_wide, colour_values
from pipeline.dicom.encapsulated_native import as_native
from pipeline.dicom.excess import whole_frames_hint
from pipeline.dicom.files import FATAL, pixel_length, without_addresses
from pipeline.dicom.floats import float_notes
from pipeline.dicom.fragments import frames_held
from pipeline.dicom.frame_zero import first_frame_problem, frame_size_problem
from pipeline.dicom.high_bit import native_grey_dtype, read_high_bit
from pipeline.dicom.jpeg_colour import colour_options
from pipeline.dicom.lossy_frames import lossy_frames_note
from pipeline.dicom.offset_table import mend_offset_table, table_note
from pipeline.dicom.palette import palette_colours
from pipeline.dicom.pixel_elements import FLOAT_WIDTH
from pipeline.dicom.plain_memo import memoized
from pipeline.dicom.reasons import read_failure
from pipeline.dicom.syntaxes import GE_PRIVATE, NATIVE_LITTLE_ENDIAN
from pipeline.dicom.unused_bits import left_unmasked, unused_bits_notes
from pipeline.dicom.ybr422 import decode_rows, values_held
from pipeline.errors import DicomError

#: Default limit on Rows x Columns x Frames x Samples of one instance (about 1 GiB of int32).
DEFAULT_MAX_PIXELS = 2**28


def frame_count(ds: Dataset) -> int:
    """NumberOfFrames (0028,0008), 1 when absent, empty or not a number."""
    try:
        return max(1, values.integer(ds, "NumberOfFrames", 1) or 1)
    except DicomError:
        return 1


def _int(ds: Dataset, source: str, keyword: str, default: int | None = None) -> int:
    try:
        value = values.integer(ds, keyword, default, minimum=1 if default is None else 0)
    except DicomError as err:
        raise DicomError(source, err.reason) from None
    if value is None:
        raise DicomError(source, f"{keyword} is missing; cannot decode the pixel data.")
    return value


def pixel_keyword(ds: Dataset) -> str:
    """Which pixel data element the instance has (PixelData, FloatPixelData, ...), or ''."""
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            return keyword
    return ""


def check_pixel_size(
    ds: Dataset,
    source: str,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    notes: list[str] | None = None,
    file_size: int | None = None,
) -> int:
    """Check the header's claimed image size before decoding; return the pixel count.

    Works on a data set read without its pixels (the element length is used, not the data;
    for encapsulated data read without it, ``file_size`` in bytes bounds it). A native pixel
    data element longer than the header needs gets a note in ``notes`` (the extra bytes are
    ignored).

    Raises
    ------
    DicomError
        When there is no pixel data, when Rows x Columns x Frames x Samples exceeds
        ``max_pixels``, (native syntaxes) when the header needs more bytes than the pixel
        data holds, e.g. a truncated file or a forged header, or (encapsulated syntaxes but
        video) when NumberOfFrames is more than the pixel data could hold at one 8-byte item
        per frame (PS3.5 A.4: every frame has at least one fragment), or when the pixel data
        element's length runs past the end of the file (``truncated file: PixelData ...
        holds N of its M bytes``, as a header-only reading says).
    """
    keyword = pixel_keyword(ds)
    if not keyword:
        kind = ds.get("SOPClassUID", "unknown")
        name = getattr(kind, "name", str(kind))
        raise DicomError(source, f"no PixelData (7FE0,0010) (SOP class: {name}).")
    rows, cols = _int(ds, source, "Rows"), _int(ds, source, "Columns")
    samples = _int(ds, source, "SamplesPerPixel", 1) or 1
    bits = FLOAT_WIDTH.get(keyword) or _int(ds, source, "BitsAllocated")
    pixels = rows * cols * frame_count(ds) * samples
    if pixels > max_pixels:
        raise DicomError(
            source,
            f"header claims {rows}x{cols}x{frame_count(ds)}x{samples} = {pixels:,} pixels, "
            f"over the limit of {max_pixels:,} (raise max_pixels if this is genuine).",
        )
    cut = getattr(ds, "radpipe_cut", None)  # a length past the end of the file: said as a
    if cut:  # header-only reading says it, whether the image fits in what is left or not
        raise DicomError(source, f"truncated file: {cut}")
    if not _encapsulated(ds, keyword):
        _check_native_length(ds, source, keyword, pixels, bits, notes)
    elif uses_file_size(ds):
        _check_frame_room(ds, source, file_size, notes)
    return pixels


def _checked_size(ds: Dataset, source: str, max_pixels: int) -> list[str]:
    """:func:`check_pixel_size`'s notes, kept per series of plain files (plain_memo)."""
    try:
        return memoized(_size_notes, ds, max_pixels)
    except DicomError as err:
        raise DicomError(source, err.reason) from None


def _size_notes(ds: Dataset, max_pixels: int) -> list[str]:
    """:func:`check_pixel_size`'s notes (errors name no file: the caller names it)."""
    notes: list[str] = []
    check_pixel_size(ds, "", max_pixels=max_pixels, notes=notes)
    return notes


def _encapsulated(ds: Dataset, keyword: str) -> bool:
    """Whether the pixel data element ``keyword`` holds encapsulated (compressed) data."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    native = syntax in NATIVE_LITTLE_ENDIAN | {"1.2.840.10008.1.2.2", GE_PRIVATE}
    return not native and keyword == "PixelData"


def uses_file_size(ds: Dataset) -> bool:
    """Whether :func:`check_pixel_size` bounds the pixel data by ``file_size``.

    Only encapsulated data in a syntax other than video (see :func:`_check_frame_room`).
    """
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    encapsulated = _encapsulated(ds, pixel_keyword(ds))
    return encapsulated and syntax is not None and syntax not in MPEGTransferSyntaxes


def _check_frame_room(
    ds: Dataset, source: str, file_size: int | None, notes: list[str] | None
) -> None:
    """Refuse a NumberOfFrames that encapsulated pixel data cannot hold.

    Each frame takes at least one fragment, an item of 8 bytes before its data (PS3.5 A.4),
    so ``8 x frames`` bytes is a floor; the element's length, when read, else the file's
    size, is the room. Video syntaxes are exempt: one stream holds every frame. Without
    this, a forged count (65,535 frames over 634 bytes) made every frame's geometry be
    worked out before the decoder failed, 8 s for one file.
    """
    frames, length = frame_count(ds), pixel_length(ds)
    room = length or file_size
    if room is not None and frames * 8 > room:
        where = "the pixel data" if length else "the file"
        raise DicomError(
            source,
            f"NumberOfFrames (0028,0008) says {frames:,} frames but {where} holds {room:,} "
            f"bytes, room for at most {room // 8:,} encapsulated frames (truncated file or "
            "wrong header).",
        )
    if told := table_note(ds, frames):  # the fragments, where they tell the frames apart
        if not told[1]:
            raise DicomError(source, told[0])
        if notes is not None:
            notes.append(told[0])
        return
    held, how = frames_held(ds, str(ds.file_meta.get("TransferSyntaxUID", ""))) or (frames, "")
    if held < frames:
        raise DicomError(source, f"encapsulated pixel data holds {held} of {frames} frames "
                                 "(truncated file?).")  # fmt: skip
    if held > frames:  # pydicom #1666
        said = f"says {frames}" if "NumberOfFrames" in ds else "is absent (1 frame)"
        raise DicomError(source, f"encapsulated pixel data holds {held} frames ({how}) but "
                                 f"NumberOfFrames (0028,0008) {said}: which of them the header "
                                 "describes is unknown.")  # fmt: skip


def _check_native_length(
    ds: Dataset, source: str, keyword: str, pixels: int, bits: int, notes: list[str] | None
) -> None:
    needed = (values_held(ds, pixels, notes) * bits + 7) // 8  # 4:2:2 holds fewer
    have = pixel_length(ds)
    if have is None:
        return
    tag = {"PixelData": "(7FE0,0010)", "FloatPixelData": "(7FE0,0008)"}.get(keyword, "(7FE0,0009)")
    if have < needed:
        raise DicomError(
            source,
            f"{keyword} {tag} holds {have:,} bytes but Rows x Columns x Frames x "
            f"Samples x BitsAllocated needs {needed:,} (truncated file or wrong header).",
        )
    if have > needed + needed % 2 and notes is not None:
        notes.append(
            f"{keyword} {tag} holds {have:,} bytes, {have - needed:,} more than the header "
            f"needs ({needed:,}): the extra bytes are ignored{whole_frames_hint(ds, have, needed)}"
        )


def decode_stored(
    ds: Dataset,
    source: str,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    notes: list[str] | None = None,
) -> np.ndarray:
    """Decode all frames of an instance.

    Parameters
    ----------
    ds, source
        The data set and the name used in messages.
    max_pixels
        Limit on Rows x Columns x Frames x Samples, checked against the header and, for
        JPEG-family frames, against each codestream's own dimensions before decoding.
    notes
        Collects what was recovered or looks damaged without stopping the decode: decoder
        warnings, excess pixel data, a JPEG frame without its end marker (truncated).

    Returns
    -------
    numpy.ndarray
        Grey-scale: stored values ``(F, H, W)`` (masked, sign-extended); Float / Double Float
        Pixel Data as float32 / float64. Colour: ``(F, H, W, 3)`` RGB; YBR is converted to
        RGB (PS3.3 C.7.6.3.1.2) and PALETTE COLOR looked up through its (possibly segmented)
        LUT (C.7.6.3.1.5); planar configuration is undone.

    Raises
    ------
    DicomError
        Naming the file and the reason (size check, missing codec, corrupt stream).
    """
    notes = [] if notes is None else notes
    notes += _checked_size(ds, source, max_pixels)  # once per series for plain files
    frames = frame_count(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    keyword = pixel_keyword(ds)
    ds = _readable(ds, source, frames) if keyword == "PixelData" else ds
    bits_alloc = FLOAT_WIDTH.get(keyword) or _int(ds, source, "BitsAllocated")  # see FLOAT_WIDTH
    bits_stored = int(values.integer(ds, "BitsStored", bits_alloc) or bits_alloc)
    signed = memoized(signed_pixels, ds)  # 1-bit pixels are 0 or 1 (header_checks._bits)
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    samples = _int(ds, source, "SamplesPerPixel", 1) or 1
    signed = signed and samples == 1  # colour samples are unsigned (header_checks._samples)
    first = check_codestreams(ds, source, max_pixels=max_pixels, notes=notes)
    dtype = native_grey_dtype(ds, bits_alloc, samples, signed) if keyword == "PixelData" else None
    high, wide = values.integer(ds, "HighBit", None), {}
    if dtype is not None:
        arr = np.frombuffer(ds.PixelData, dtype=dtype, count=frames * rows * cols)
        arr = arr.astype(dtype.newbyteorder("=")) if not dtype.isnative else arr
        arr = read_high_bit(arr.reshape(frames, rows, cols), high, bits_stored, notes)
    else:
        header = {"rows": rows, "columns": cols, "number_of_frames": frames,
                  "samples_per_pixel": samples, "photometric_interpretation": photometric,
                  "bits_allocated": bits_alloc, "bits_stored": bits_stored,
                  "pixel_representation": int(signed)}  # fmt: skip
        native = not _encapsulated(ds, keyword)
        if native:  # the header's frames; the excess, noted, dropped
            header["allow_excess_frames"] = False
        if samples == 1 and left_unmasked(syntax, photometric):
            header["correct_unused_bits"] = False  # see codestream_bits, masked_here
        header.update(colour_options(ds, syntax, samples, photometric, first, notes, source))
        header.update(wide := colour_options_wide(header, native, syntax, ds))  # colour_values
        arr = decode_rows(ds, source, notes, header)  # pydicom's, but for 4:2:2 padded rows
        read_high_bit(arr[:0], high, bits_stored, notes)  # pydicom reads the low BitsStored bits
        shape = (frames, rows, cols, samples) if samples > 1 else (frames, rows, cols)
        arr = _in_shape(arr, shape, native, source)
    if arr.dtype.kind == "f":
        float_notes(arr, notes, ds)
        return arr
    if photometric == "PALETTE COLOR":
        return palette_colours(ds, arr, bits_stored, source, notes, syntax)  # unmasked indices
    arr = colour_values(arr, wide, bits_stored, ds, notes) if wide else arr
    if samples == 1:
        notes.extend(unused_bits_notes(arr, bits_stored, signed, ds, dtype is not None, syntax))
        arr = fix_bits(arr, codestream.codestream_bits(arr, bits_stored, syntax, notes, ds), signed)
        notes.extend(_past_float32(arr, bits_stored))
    return arr


def _past_float32(arr: np.ndarray, bits_stored: int) -> list[str]:
    """Why float32 outputs (NPY, NIfTI) cannot hold stored values ``arr`` exactly, or []."""
    top = max(int(arr.max(initial=0)), -int(arr.min(initial=0))) if bits_stored > 24 else 0
    if top > 2**24:  # float32 holds whole numbers exactly only up to 2**24
        return [f"stored values reach {top}, past 2**24: float32 outputs (NPY, NIfTI) hold "
                "them rounded to 24 significant bits"]  # fmt: skip
    return []


def _readable(ds: Dataset, source: str, frames: int) -> Dataset:
    """``ds`` with its frames where the decoders find them.

    Past a Basic Offset Table that the fragments overrule (noted by :func:`check_pixel_size`);
    Encapsulated Uncompressed frames made native.
    """
    return as_native(mend_offset_table(ds, frames), source, frames)


def _in_shape(arr: np.ndarray, shape: tuple[int, ...], native: bool, source: str) -> np.ndarray:
    """A decoder's values in the header's ``shape`` (native byte order), else refused.

    Native data holding more whole frames than the header says was decoded whole by pydicom
    (big endian, colour, palette) and refused; the frames past the header's are dropped, as
    the little-endian grey path reads only those (:func:`check_pixel_size` notes the excess).
    """
    if native and arr.shape[1:] == shape[1:]:
        arr = arr[: shape[0]]
    if arr.size != int(np.prod(shape)):
        raise DicomError(source, _shape_mismatch(arr.shape, shape))
    arr = arr.reshape(shape)
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _shape_mismatch(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """Why decoded pixels do not fit the header, in its attributes' terms."""
    shown = "x".join(map(str, got))
    return (
        f"the decoder gave {int(np.prod(got)):,} values ({shown}) but NumberOfFrames "
        "(0028,0008) x Rows (0028,0010) x Columns (0028,0011) x SamplesPerPixel (0028,0002) "
        f"say {'x'.join(map(str, want))} = {int(np.prod(want)):,}."
    )


def check_codestreams(
    ds: Dataset, source: str, *, max_pixels: int = DEFAULT_MAX_PIXELS, notes: list[str]
) -> bytes | None:
    """Check JPEG-family and RLE frames against the header before any decoding.

    Returns the first JPEG-family frame (for :func:`~pipeline.dicom.jpeg_colour.colour_options`),
    ``None`` for other syntaxes.

    The fragments must hold NumberOfFrames frames. Each JPEG-family frame's own dimensions
    (SOF / SIZ marker) are checked against Rows, Columns and ``max_pixels``; a frame without
    its end marker gets a note. Does nothing for other syntaxes or when the pixel data was
    not read.

    Raises
    ------
    DicomError
        A frame larger than the limit or than the header says, or malformed fragments.
    """
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    family = codestream.is_jpeg_family(syntax)
    if not (family or syntax == RLELossless):
        return None  # before the element is looked up: most files are native
    elem = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    if elem is None or elem.value is None:
        return None
    frames = frame_count(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    try:
        found = list(generate_frames(ds.PixelData, number_of_frames=frames))
    except FATAL:
        raise
    except BaseException as err:
        why = read_failure(err, without_addresses(str(err)))
        raise DicomError(source, f"encapsulated pixel data is malformed: {why}") from None
    if len(found) < frames:
        raise DicomError(source, f"encapsulated pixel data holds {len(found)} of {frames} "
                                 "frames (truncated file?).")  # fmt: skip
    if wrong := first_frame_problem(found[0], ds, str(syntax)):
        raise DicomError(source, wrong)
    if not family:
        return None
    notes += codestream.sign_notes(found[0], ds.get("PixelRepresentation"))
    notes += lossy_frames_note(found, syntax)  # every frame's markers, not the first's
    for k, frame in enumerate(found):
        if wrong := frame_size_problem(k, frame, rows, cols, frames, max_pixels):
            raise DicomError(source, wrong)
        if codestream.has_end_marker(frame):
            continue
        missing = codestream.data_missing(frame, syntax)
        if missing:
            raise DicomError(source, f"frame {k}: the compressed stream is cut short, scan "
                                     f"data missing ({missing}): truncated file?")  # fmt: skip
        notes.append(f"frame {k}: the compressed stream has no end marker "
                     "(EOI/EOC): truncated or damaged")  # fmt: skip
    return found[0]
