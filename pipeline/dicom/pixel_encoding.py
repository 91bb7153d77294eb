"""Pixel data whose encoding contradicts the File Meta's TransferSyntaxUID.

Tools that rewrite a file's header without touching its pixel data leave the two
disagreeing: a de-identifier or router that sets (0002,0010) to Explicit VR Little Endian
over encapsulated JPEG fragments, or a script that decompresses the pixels but keeps the
JPEG syntax (pydicom #238, #1942; dicomParser #59; GDCM and dcmtk read such files by what
the pixel data element holds). Read by the syntax alone, encapsulated fragments were taken
for native pixels (the item tags, offset table and codestream written as an image, with only
a note that the pixel data was longer than needed), and native pixels under a compressed
syntax were refused as "malformed" items.

:func:`match_pixel_encoding` tells the encoding from the element itself (PS3.5 A.4:
encapsulated pixel data has an undefined length and starts with an item tag; native pixel
data has a defined length) and reads the pixels as what they are, with a note, or refuses
the file naming the contradiction.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from pipeline.dicom.codestream import jpeg_segments
from pipeline.dicom.syntaxes import ITEM, RLE_LOSSLESS

__all__ = [
    "LOSSLESS",
    "LOSSY_STREAMS",
    "lossy_stream_note",
    "match_pixel_encoding",
    "stream_syntax",
    "syntax_name",
]

_UNDEFINED = 0xFFFFFFFF
_NATIVE = {
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
}
_STREAMS = {
    0xC0: "1.2.840.10008.1.2.4.50",  # SOF0 baseline
    0xC1: "1.2.840.10008.1.2.4.51",  # SOF1 extended
    0xC3: "1.2.840.10008.1.2.4.57",  # SOF3 lossless (any predictor)
}


def stream_syntax(frame: bytes) -> str | None:
    r"""The transfer syntax UID a compressed frame's own markers say, else ``None``.

    JPEG (T.81 SOF0, SOF1, SOF3), JPEG-LS (T.87 SOF55, NEAR 0 lossless), JPEG 2000 and
    HTJ2K (T.800 / T.814 SOC + SIZ; COD's wavelet 5/3 lossless, a CAP marker HTJ2K) and RLE
    (PS3.5 G.3.1: a 64-byte header of 1-15 segments, the first at offset 64).

    Examples
    --------
    >>> stream_syntax(struct.pack("<16I", 1, 64, *[0] * 14) + b"\x00\x00")
    '1.2.840.10008.1.2.5'
    >>> stream_syntax(b"\x00" * 80) is None
    True
    """
    if frame[:2] == b"\xff\xd8":
        return _jpeg_syntax(frame)
    start = 0 if frame[:4] == b"\xff\x4f\xff\x51" else -1
    if frame[4:8] in (b"jP  ", b"jP\x1a\x1a"):  # JP2 file format wrapper
        start = frame.find(b"\xff\x4f\xff\x51", 0, 1 << 16)
    if start >= 0:
        return _j2k_syntax(frame[start:])
    if len(frame) >= 64:
        count, *offsets = struct.unpack_from("<16I", frame)
        used, unused = offsets[:count], offsets[count:]
        if 1 <= count <= 15 and used[0] == 64 and used == sorted(used) and not any(unused):
            return RLE_LOSSLESS if used[-1] < len(frame) else None
    return None


def _jpeg_syntax(frame: bytes) -> str | None:
    sof = None
    for marker, body in jpeg_segments(frame, scan=True):
        if marker == 0xDA and sof == 0xF7 and len(body) >= 1:  # JPEG-LS: NEAR after Ns pairs
            near_at = 1 + 2 * body[0]
            near = body[near_at] if len(body) > near_at else 0
            return "1.2.840.10008.1.2.4.80" if near == 0 else "1.2.840.10008.1.2.4.81"
        if sof is None and (marker in _STREAMS or marker == 0xF7):
            sof = marker
    return _STREAMS.get(sof) if sof is not None else None


def _j2k_syntax(codestream: bytes) -> str:
    """JPEG 2000 or HTJ2K, lossless or not, from the main header's marker segments."""
    reversible, high_throughput, pos = False, False, 2
    while pos + 4 <= len(codestream) and codestream[pos] == 0xFF:
        marker, (length,) = codestream[pos + 1], struct.unpack_from(">H", codestream, pos + 2)
        if marker == 0x90:  # SOT: the first tile-part, the main header is over
            break
        high_throughput |= marker == 0x50  # CAP: High-Throughput JPEG 2000 (T.814)
        if marker == 0x52 and len(codestream) > pos + 13:  # COD
            reversible = codestream[pos + 13] == 1  # SPcod's transformation: 1 = 5/3
        pos += 2 + length
    if high_throughput:
        return "1.2.840.10008.1.2.4.201" if reversible else "1.2.840.10008.1.2.4.203"
    return "1.2.840.10008.1.2.4.90" if reversible else "1.2.840.10008.1.2.4.91"


#: Transfer syntaxes whose streams are lossless by definition (PS3.5 A.4: JPEG Lossless,
#: JPEG-LS Lossless, JPEG 2000 and HTJ2K Lossless Only).
LOSSLESS = {f"1.2.840.10008.1.2.4.{n}" for n in (57, 70, 80, 90, 201, 202)}
#: What :func:`stream_syntax` answers for a lossy stream: T.81 baseline / extended, JPEG-LS
#: with NEAR above 0, JPEG 2000 and HTJ2K with the irreversible 9/7 wavelet.
#: Syntaxes of lossy streams (what :func:`stream_syntax` tells from a stream's own markers):
#: JPEG baseline and extended, JPEG-LS near-lossless, JPEG 2000 and HTJ2K of the 9/7 wavelet.
LOSSY_STREAMS = frozenset(f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, 81, 91, 203))


def lossy_stream_note(frame: bytes, syntax: object) -> list[str]:
    """A note when a frame's stream is lossy under a transfer syntax that is lossless only.

    A JPEG-LS stream of NEAR 2 filed as JPEG-LS Lossless, a JPEG 2000 codestream of the 9/7
    wavelet as JPEG 2000 Lossless Only, or a baseline JPEG as JPEG Lossless decodes without
    complaint, so the file passed for the scanner's values (dcmtk PR #33, openjpeg #967: the
    stream's own markers say whether it is reversible). The values differ from the
    original's by the compression error; outputs hold the decoded values, said.
    """
    said = str(syntax or "").strip()
    found = stream_syntax(frame) if said in LOSSLESS else None
    if found not in LOSSY_STREAMS:
        return []
    return [
        f"lossy pixel data: TransferSyntaxUID (0002,0010) says {syntax_name(said)}, but the stream "
        f"is {syntax_name(str(found))} (its own markers say so): values differ from the original "
        "by the compression error"
    ]


def match_pixel_encoding(ds: Any, path: str | Path) -> str | None:
    """Read the pixel data as what it holds when the transfer syntax says otherwise.

    On a recovery the File Meta's TransferSyntaxUID is set to what the pixel data is and a
    note is added to ``ds.radpipe_notes``; returns the reason to refuse the file, else
    ``None`` (nothing to do, or recovered).
    """
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "") if meta is not None else "").strip()
    if "PixelData" not in ds or not syntax:
        return None
    elem = ds.get_item(0x7FE00010, keep_deferred=True)
    undefined = getattr(elem, "length", None) == _UNDEFINED or getattr(
        elem, "is_undefined_length", False
    )
    said = f"TransferSyntaxUID (0002,0010) says {_NATIVE.get(syntax) or syntax_name(syntax)}"
    if syntax not in _NATIVE and (undefined or not _is_encapsulated(syntax)):
        return None
    if syntax in _NATIVE and not undefined and _length(elem) == _native_bytes(ds):
        return None  # the usual native file: its size says so, nothing more is read
    head = b"" if undefined else _first_bytes(elem, path)
    if syntax in _NATIVE and (undefined or head == ITEM):
        return _encapsulated_under_native(ds, said, undefined)
    if syntax in _NATIVE or head is None or head == ITEM:
        return None
    return _native_under_compressed(ds, elem, said)


def _encapsulated_under_native(ds: Any, said: str, undefined: bool) -> str | None:
    from pydicom.encaps import generate_fragments

    try:
        fragments = generate_fragments(ds.PixelData)
        next(fragments)  # the Basic Offset Table
        first = next(fragments, b"")
    except Exception:  # pydicom raises several kinds on malformed items
        first = b""
    found = stream_syntax(first) if first else None
    how = "undefined length" if undefined else "a defined length"
    what = f"{said}, a native syntax, but PixelData (7FE0,0010) is encapsulated ({how}, in items)"
    if found is None and not undefined:  # native pixels that happen to start so: as before
        return None
    if found is None:
        return (f"{what} and its first fragment is no JPEG, JPEG-LS, JPEG 2000 or RLE "
                "stream: the File Meta does not describe the pixel data, which cannot be "
                "read.")  # fmt: skip
    ds.file_meta.TransferSyntaxUID = found
    _note(ds, f"{what}: read as {syntax_name(found)} ({found}), the syntax its first frame's "
              "stream says (the header was rewritten without its pixel data)")  # fmt: skip
    return None


def _native_under_compressed(ds: Any, elem: Any, said: str) -> str | None:
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    length = _length(elem)
    need = _native_bytes(ds)
    what = (f"{said}, a compressed syntax, but PixelData (7FE0,0010) is not encapsulated "
            f"(a defined length of {length:,} bytes, no items)")  # fmt: skip
    if need is None or length not in (need, need + 1):
        wanted = f"the {need:,} bytes" if need is not None else "the bytes"
        return (f"{what}, and not {wanted} of the header's uncompressed image either: the "
                "File Meta does not describe the pixel data, which cannot be read.")  # fmt: skip
    implicit = getattr(ds, "original_encoding", (False, True))[0]
    native = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.file_meta.TransferSyntaxUID = native
    _note(ds, f"{what}, exactly the header's uncompressed image: read as {native.name} "
              "(the pixels were decompressed without the syntax being updated)")  # fmt: skip
    return None


def _length(elem: Any) -> int:
    value = getattr(elem, "value", None)
    return len(value) if isinstance(value, bytes) else int(getattr(elem, "length", 0) or 0)


def _native_bytes(ds: Any) -> int | None:
    """Bytes of the header's image uncompressed (PS3.5 8.1.1), ``None`` when unusable."""
    try:
        frames = int(ds.get("NumberOfFrames") or 1)
        bits = int(ds.BitsAllocated)
        pixels = int(ds.Rows) * int(ds.Columns) * frames * int(ds.get("SamplesPerPixel") or 1)
    except (AttributeError, TypeError, ValueError):
        return None
    return (pixels * bits + 7) // 8


def _first_bytes(elem: Any, path: str | Path) -> bytes | None:
    value = getattr(elem, "value", None)
    if isinstance(value, bytes):
        return value[:4]
    tell = getattr(elem, "value_tell", None)
    if tell is None:
        return None
    try:
        with open(path, "rb") as fh:
            fh.seek(tell)
            return fh.read(4)
    except OSError:
        return None


def _is_encapsulated(syntax: str) -> bool:
    from pydicom.uid import UID

    found = UID(syntax)
    return bool(found.is_transfer_syntax and found.is_encapsulated)


def syntax_name(syntax: str) -> str:
    """A transfer syntax UID's name (pydicom's)."""
    from pydicom.uid import UID

    return str(UID(syntax).name)


def _note(ds: Any, text: str) -> None:
    ds.radpipe_notes = [*getattr(ds, "radpipe_notes", []), text]
