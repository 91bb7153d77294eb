"""What a compressed frame says about itself, read from its markers before decoding.

A decoder allocates what the *codestream* asks for, not what the DICOM header says: a
1.3 KB JPEG 2000 frame whose SIZ marker claims 16384 x 16384 decodes to 1.6 GB even when
Rows and Columns are 16. :func:`frame_size` reads the frame's own dimensions (JPEG SOFn,
JPEG-LS SOF55, JPEG 2000 SIZ) so they can be checked against the header and the pixel limit
first, :func:`has_end_marker` tells a stream cut short (no EOI / EOC marker), and
:func:`data_missing` whether such a JPEG or JPEG-LS stream also lost scan data.

References: ITU-T T.81 B.2.2 (frame header), T.87 (JPEG-LS, SOF55 = 0xFFF7),
T.800 A.5.1 (SIZ), A.4.4 (EOC = 0xFFD9).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from pipeline.dicom.syntaxes import RLE_LOSSLESS
from pipeline.dicom.values import integer

#: JPEG start-of-frame markers (T.81 Table B.1), plus JPEG-LS SOF55.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
#: Last UID component of the syntaxes whose frames are JPEG, JPEG-LS or JPEG 2000 / HTJ2K
#: codestreams (1.2.840.10008.1.2.4.x; the MPEG and HEVC video syntaxes are not).
_JPEG_FAMILY = {*range(50, 58), 70, 80, 81, 90, 91, 92, 93, 201, 202, 203}
#: Of those, the JPEG (T.81) ones: baseline, extended, progressive and lossless.
_JPEG = {*range(50, 58), 70}
_EOI = b"\xff\xd9"


def frame_size(data: bytes) -> tuple[int, int, int] | None:
    """``(rows, columns, components)`` claimed by a JPEG / JPEG-LS / JPEG 2000 frame.

    Returns ``None`` when the stream is not recognised or the header is cut short; a JPEG
    frame with 0 lines (the count comes later in a DNL marker) gives ``rows == 0``.

    Examples
    --------
    >>> siz = bytes.fromhex("ff4fff51002f0000") + struct.pack(">8I", 64, 32, 0, 0, 64, 32, 0, 0)
    >>> frame_size(siz + struct.pack(">H", 1) + bytes(3))
    (32, 64, 1)
    """
    if data[:4] == b"\xff\x4f\xff\x51":
        return _siz(data, 4)
    if data[4:8] == b"jP  " or data[4:8] == b"jP\x1a\x1a":  # JP2 file format wrapper
        start = data.find(b"\xff\x4f\xff\x51", 0, 1 << 16)
        return _siz(data, start + 4) if start >= 0 else None
    if data[:2] == b"\xff\xd8":
        return _sof(data)
    return None


def _siz(data: bytes, pos: int) -> tuple[int, int, int] | None:
    if len(data) < pos + 38:
        return None
    x, y, x0, y0 = struct.unpack_from(">4I", data, pos + 4)
    (components,) = struct.unpack_from(">H", data, pos + 36)
    return max(0, y - y0), max(0, x - x0), components


def j2k_sample_format(data: bytes) -> tuple[bool, int] | None:
    """``(signed, precision)`` of a JPEG 2000 codestream's first component, or ``None``.

    From the SIZ marker's Ssiz (T.800 A.5.1: bit 7 the sign, bits 0-6 the precision minus 1).

    Examples
    --------
    >>> siz = bytes.fromhex("ff4fff51002f0000") + struct.pack(">8I", 64, 32, 0, 0, 64, 32, 0, 0)
    >>> j2k_sample_format(siz + struct.pack(">H", 1) + bytes([0x8B, 1, 1]))
    (True, 12)
    """
    start = 0 if data[:4] == b"\xff\x4f\xff\x51" else data.find(b"\xff\x4f\xff\x51", 0, 1 << 16)
    if start < 0 or data[start : start + 4] != b"\xff\x4f\xff\x51" or len(data) < start + 43:
        return None
    ssiz = data[start + 42]
    return bool(ssiz & 0x80), (ssiz & 0x7F) + 1


def sign_notes(frame: bytes, pixel_representation: object) -> list[str]:
    """Say when a JPEG 2000 frame's signedness is not PixelRepresentation's (else ``[]``).

    pydicom reads the values as the header says (a signed -1000 in a 12-bit codestream is
    3096 under PixelRepresentation 0; an unsigned codestream of two's complement words
    under PixelRepresentation 1 is -1000): right for the encoders that write unsigned
    codestreams of signed data, a guess the other way round, so it is said (PS3.5 8.2.4
    requires the two to agree).
    """
    found = j2k_sample_format(frame)
    signed = pixel_representation
    if found is None or type(signed) is not int or signed not in (0, 1) or found[0] == signed:
        return []
    coded, header = ("signed", "unsigned") if found[0] else ("unsigned", "signed")
    return [
        f"the JPEG 2000 codestream is {coded} ({found[1]} bits) but PixelRepresentation "
        f"(0028,0103) says {header}: values read as the header says"
    ]


def _sof(data: bytes) -> tuple[int, int, int] | None:
    for marker, body in jpeg_segments(data):
        if marker in _SOF:
            if len(body) < 6:
                return None
            rows, cols = struct.unpack_from(">HH", body, 1)
            return rows, cols, body[5]
    return None


def jpeg_segments(data: bytes, *, scan: bool = False) -> Iterator[tuple[int, bytes]]:
    """``(marker, segment body)`` of a JPEG-family stream's header segments, up to its scan.

    Stops at the first scan (SOS; with ``scan`` its header is yielded first) or end of image;
    fill bytes and stand-alone markers are skipped (T.81 B.1.1.2-B.1.1.4). A body cut short by
    the end of ``data`` is yielded short.
    """
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF or marker in _STANDALONE or marker == 0x00:
            pos += 1 if marker == 0xFF else 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or the scan data
            if scan and marker == 0xDA and pos + 4 <= end:
                (length,) = struct.unpack_from(">H", data, pos + 2)
                yield marker, data[pos + 4 : pos + 2 + length]
            return
        (length,) = struct.unpack_from(">H", data, pos + 2)
        yield marker, data[pos + 4 : pos + 2 + length]
        pos += 2 + length


def has_end_marker(data: bytes) -> bool:
    """Whether a JPEG-family frame ends with EOI / EOC (0xFFD9), padding bytes aside."""
    return data.rstrip(b"\x00").endswith(b"\xff\xd9")


def data_missing(data: bytes, syntax: str | None) -> str | None:
    """Why a JPEG or JPEG-LS frame without its end marker also lacks scan data, else ``None``.

    libjpeg (what pydicom decodes JPEG with, and falls back to for JPEG-LS) decodes a cut
    stream without a word, making up the pixels past the cut. A frame that lost only its
    end marker decodes fully once the marker is put back. JPEG-LS: CharLS (pyjpegls) is
    strict and decodes it only then. JPEG: whatever follows the last coded byte is read as
    more scan data when some is missing, so libjpeg's images with the marker right after it
    and with filler bytes before it differ; when nothing is missing the filler is skipped
    and they are the same (a stream libjpeg cannot decode either way is left to the decode,
    which then fails). JPEG 2000 decoders refuse a cut stream themselves.
    """
    text = str(syntax or "")
    last = int(text.rpartition(".")[2]) if text.startswith("1.2.840.10008.1.2.4.") else 0
    body = data.rstrip(b"\x00").rstrip(b"\xff")  # padding; a marker cut after its 0xFF
    if last in (80, 81):
        import jpeg_ls

        try:
            jpeg_ls.decode(np.frombuffer(body + _EOI, dtype=np.uint8))
        except Exception as err:  # CharLS raises RuntimeError; anything else means the same
            why = str(err).splitlines()[0].removeprefix("Decoding error: ")[:200]
            return f"CharLS: {why or type(err).__name__}"
    elif last in _JPEG:
        from libjpeg import decode

        try:
            ended, filled = decode(body + _EOI), decode(body + b"\x55" * 64 + _EOI)
        except Exception:  # undecodable with or without filler: the decode says why
            return None
        if not np.array_equal(ended, filled):
            return "libjpeg: the pixels past the cut depend on what follows it"
    return None


#: JPEG 2000 and HTJ2K syntaxes (last UID component).
_J2K = {90, 91, 92, 93, 201, 202, 203}
#: Lossy T.81 JPEG (baseline, extended; last UID component). A decoded sample is the value
#: the decoder made, with no unused bits: a 6-bit image's stream that overshoots its top
#: decodes 64. pydicom masks T.81 samples to BitsStored (64 read 0); radpipe keeps unsigned
#: ones (:func:`codestream_bits`). A signed one takes its sign from BitsStored (a T.81
#: stream carries none, PS3.5 8.2.1), and lossless T.81 stays masked: its high bits are the
#: native words', coded losslessly, and undefined (PS3.5 8.1.1); either is noted when the
#: masking changed a value (a header's BitsStored too small reads as garbage otherwise).
_LOSSY_T81 = {50: "JPEG baseline", 51: "JPEG extended"}
#: The syntaxes whose decoded samples are kept unmasked (last UID component): codec name.
_KEEPS_SAMPLES = {**dict.fromkeys(_J2K, "JPEG 2000"), 80: "JPEG-LS", 81: "JPEG-LS", **_LOSSY_T81}


def _t81_name(syntax: str | None) -> str | None:
    """The codec name of a T.81 JPEG syntax (baseline, extended, lossless), else None."""
    last = str(syntax or "").rpartition(".")[2]
    if not (is_jpeg_family(syntax) and last.isdigit() and int(last) in _JPEG):
        return None
    return _LOSSY_T81.get(int(last), "JPEG lossless" if int(last) in (57, 70) else "JPEG")


def keeps_jpeg_samples(syntax: str | None) -> bool:
    """Whether pydicom is to leave a T.81 JPEG's grey samples unmasked.

    ``correct_unused_bits=False``, so that :func:`codestream_bits` sees them as decoded:
    it keeps the unsigned lossy ones and masks the rest itself, saying when that changed a
    value.
    """
    return _t81_name(syntax) is not None


def _masked_t81(arr: np.ndarray, bits_stored: int, codec: str, notes: list[str]) -> None:
    """Note T.81 samples whose bits above BitsStored masking drops (a value changed).

    A signed sample sign-extended to the full word (-1000 as 0xFC18 under BitsStored 12)
    keeps its value, and is not counted.
    """
    if bits_stored >= arr.dtype.itemsize * 8 or not arr.size:
        return
    unsigned = arr.view(arr.dtype.str.replace("i", "u"))
    lost = np.right_shift(unsigned, bits_stored) != 0
    if arr.dtype.kind == "i":
        half = 1 << (bits_stored - 1)
        lost &= (arr < -half) | (arr >= half)
    count = int(np.count_nonzero(lost))
    if not count:
        return
    top = int(unsigned[lost].max())
    why = ("the sign taken from its top bit (a T.81 stream carries none, PS3.5 8.2.1)"
           if codec in _LOSSY_T81.values() else
           "as native words' bits above HighBit are (undefined, PS3.5 8.1.1)")  # fmt: skip
    notes.append(
        f"{codec} samples need {top.bit_length()} bits (up to {top}) but BitsStored "
        f"(0028,0101) says {bits_stored}: masked to {bits_stored} bits, {why}, "
        f"{count:,} of {arr.size:,} values changed"
    )


def value_bits(arr: np.ndarray, span: tuple[int, int] | None = None) -> int:
    """Bits the values of ``arr`` need (a sign bit too if signed); ``span``: its (min, max).

    Examples
    --------
    >>> value_bits(np.array([100, 5000], np.uint16)), value_bits(np.array([-1000], np.int16))
    (13, 11)
    """
    if not arr.size:
        return 0
    low, top = span if span is not None else (int(arr.min()), int(arr.max()))
    if arr.dtype.kind == "u":
        return top.bit_length()
    return max(top.bit_length(), (-low - 1).bit_length() if low < 0 else 0) + 1


def embedded_overlay(ds: Any, bits_stored: int) -> tuple[int, int] | None:
    """``(group, bit)`` of the first overlay embedded in the pixel words above BitsStored.

    An overlay plane without Overlay Data (60xx,3000) whose Overlay Bit Position (60xx,0102)
    is at or above BitsStored lives in the unused high bits of each pixel word (retired, but
    written by older CRs, MRs and ultrasound: PS3.5 8.1.2, PS3.3 C.9.2.1.3 of 2003). ``None``
    when there is no such plane.
    """
    for group in range(0x6000, 0x6020, 2):
        try:
            bit = ds.get((group << 16) | 0x0102)
            bit = getattr(bit, "value", bit)
            has_data = ds.get((group << 16) | 0x3000) is not None
        except Exception:  # an unreadable overlay element: no overlay known here
            continue
        text = str(bit).strip() if bit is not None and not has_data else ""
        if text.isdigit() and bits_stored <= int(text) < 64:
            return group, int(text)
    return None


def _masked_overlay(
    arr: np.ndarray, bits_stored: int, codec: str, overlay: tuple[int, int], notes: list[str]
) -> int:
    """Note that a codestream's bits above BitsStored are the embedded ``overlay``'s.

    They are masked, as in native data and as GDCM decodes them (pydicom #2260: a CR with an
    overlay in bit 12 under BitsStored 12 came out of JPEG 2000 with 4096 added where the
    overlay was drawn).
    """
    need = value_bits(arr)
    if need > bits_stored:
        unsigned = arr.view(arr.dtype.str.replace("i", "u"))
        changed = int(np.count_nonzero(np.right_shift(unsigned, bits_stored)))
        notes.append(
            f"{codec} samples hold the overlay of ({overlay[0]:04X},0102) OverlayBitPosition "
            f"{overlay[1]} above BitsStored (0028,0101) {bits_stored}: masked to "
            f"{bits_stored} bits, the overlay left out of the values ({changed:,} of "
            f"{arr.size:,} values changed)"
        )
    return bits_stored


def codestream_bits(
    arr: np.ndarray,
    bits_stored: int,
    syntax: str | None,
    notes: list[str],
    ds: Any = None,
) -> int:
    """The bits to keep of decoded JPEG-family grey samples: BitsStored, or more.

    A codestream of wider samples than BitsStored (precision 16 under BitsStored 12) is
    decoded to those samples, and pydicom keeps them (it masks unused bits of native, RLE
    and T.81 JPEG data only, whose bits above HighBit are undefined, PS3.5 8.1.1); masked to
    BitsStored they were garbage without a word (5000 became 904, 65535 became 4095). They
    are kept, noted. So are the unsigned samples of a lossy T.81 JPEG (baseline, extended),
    decoded unmasked at radpipe's asking (:func:`keeps_jpeg_samples`): masked, a 6-bit
    image's 64 (an overshoot of its top, 63) read 0 and 200 read 8. Lossless T.81 samples
    and signed T.81 ones are masked to BitsStored (by the caller), noted when that changes
    a value (:func:`_masked_t81`): it was unsaid. A JPEG 2000 or JPEG-LS codestream whose
    bits above BitsStored the header ``ds`` gives to an overlay (:func:`embedded_overlay`) is
    masked, noted (:func:`_masked_overlay`).
    """
    last = str(syntax or "").rpartition(".")[2]
    codec = _KEEPS_SAMPLES.get(int(last)) if last.isdigit() else None
    lossy_t81 = codec in _LOSSY_T81.values()
    t81 = _t81_name(syntax)
    if t81 is not None and arr.dtype.kind in "iu" and (not lossy_t81 or arr.dtype.kind == "i"):
        _masked_t81(arr, bits_stored, t81, notes)
        return bits_stored
    if codec is None or arr.dtype.kind not in "iu":
        return bits_stored
    overlay = None if ds is None else embedded_overlay(ds, bits_stored)
    if overlay is not None:  # the bits above BitsStored are an overlay's, not the samples'
        return _masked_overlay(arr, bits_stored, codec, overlay, notes)
    need = min(value_bits(arr), arr.dtype.itemsize * 8)
    if need <= bits_stored:
        return bits_stored
    masked = f"not masked to {bits_stored} bits"
    how = f"{masked} (masked, {2**bits_stored} would read 0)" if lossy_t81 else (
        f"as pydicom reads them, {masked}")  # fmt: skip
    notes.append(
        f"{codec} samples need {need} bits (up to {int(arr.max())}) but BitsStored "
        f"(0028,0101) says {bits_stored}: kept as decoded, {how}"
    )
    return need


def stored_bits(ds: Any, stored: np.ndarray, span: tuple[int, int] | None = None) -> int:
    """BitsStored (else BitsAllocated, else the array's width), widened for wider samples.

    Only grey samples kept wider than BitsStored (a JPEG 2000 or JPEG-LS codestream's, by
    :func:`codestream_bits`) need more: masked values always fit. ``span``: the smallest and
    largest stored value, when known (:func:`value_bits`).
    """
    default = stored.dtype.itemsize * 8
    bits = int(integer(ds, "BitsStored", None) or integer(ds, "BitsAllocated", default) or 16)
    if stored.ndim == 3 and stored.dtype.kind in "iu":  # (F, H, W) grey, not palette RGB
        bits = max(bits, min(value_bits(stored, span), default))
    return bits


def planar_note(syntax: str | None, planar: int | None) -> str | None:
    """How the PlanarConfiguration (0028,0006) of colour pixel data in ``syntax`` is read.

    ``None``: as the header says (native data, where it orders the bytes). In a compressed
    stream it is irrelevant (PS3.5 8.2.1-8.2.4: the stream orders its components; it shall
    be 0): a T.81 JPEG or JPEG 2000 decoder gives interleaved samples, which pydicom, told 1,
    read as planes (colours scrambled, unsaid: cornerstone3D PR #2778, JPEGLosslessDecoderJS
    #8), so 1 is read as 0, noted; RLE and JPEG-LS decode right under either value. A missing
    one (refused for native data) is read as 0 there, noted.
    """
    if not (is_jpeg_family(syntax) or str(syntax or "") == RLE_LOSSLESS):
        return None
    interleaved = reads_interleaved(syntax, 0)
    name = "PlanarConfiguration (0028,0006)"
    if planar is None:
        return f"{name} is missing: irrelevant to compressed pixel data (PS3.5 8.2), read as 0"
    if planar == 1 and interleaved:
        return (f"{name} is 1, but this compressed stream's decoder gives interleaved samples "
                "(PS3.5 8.2: irrelevant to compressed data, shall be 0): read as 0")  # fmt: skip
    return None


def reads_interleaved(syntax: str | None, planar: int | None) -> bool:
    """Whether colour pixel data in ``syntax`` is decoded as PlanarConfiguration 0.

    Against the header's ``planar`` (:func:`planar_note`): T.81 JPEG, JPEG 2000 and HTJ2K
    always, any compressed syntax when it is missing (RLE and JPEG-LS decoders order the
    samples as their stream says, under either value).
    """
    text = str(syntax or "")
    last = text.rpartition(".")[2]
    if is_jpeg_family(syntax) and int(last) in (_JPEG | _J2K):
        return True
    return planar is None and (is_jpeg_family(syntax) or text == RLE_LOSSLESS)


def is_jpeg_family(syntax: str | None) -> bool:
    """JPEG, JPEG-LS, JPEG 2000 and HTJ2K transfer syntaxes (1.2.840.10008.1.2.4.x)."""
    text = str(syntax or "")
    head, _, last = text.rpartition(".")
    return head == "1.2.840.10008.1.2.4" and last.isdigit() and int(last) in _JPEG_FAMILY
