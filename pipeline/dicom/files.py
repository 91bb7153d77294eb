"""Finding and reading DICOM files so that every file found gets a data set or a reason.

- :func:`find_files` (from :mod:`pipeline.dicom.walk`) walks a folder and yields every file,
  including the ones that cannot be read (an unreadable subfolder, a dangling symbolic link,
  a FIFO) or are skipped (hidden, radpipe's own output) with the reason.
- :func:`read_dataset` reads one file with pydicom and never raises for bad input: it returns
  a :class:`~pipeline.dicom.index.Problem` instead (truncated, not DICOM, a deflate bomb,
  a decoder panic that derives from ``BaseException``).
- :func:`captured_warnings` records the warnings raised while a file is handled, with UIDs,
  quoted values and absolute paths replaced by hashed keys, so nothing raw reaches a log.
- :func:`escape_name` makes a file name printable (undecodable bytes, ANSI escapes).
"""

from __future__ import annotations

import io
import os
import re
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.dicom.byte_order import read_bare, read_in_byte_order
from pipeline.dicom.preamble import misplaced_prefix, read_from
from pipeline.dicom.reasons import read_failure, warning_said
from pipeline.dicom.syntaxes import DEFLATED
from pipeline.dicom.walk import OUTPUT_MARK, Found, find_files
from pipeline.keys import hash_key

#: Exceptions that stop the program, never one file: they are always re-raised.
FATAL: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit, GeneratorExit)

#: Inflated size allowed for the header of a deflated file read without its pixels.
DEFLATE_HEADER_BYTES = 16 * 2**20
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a file (``path``) or a series (``series_key``).

    ``skipped``: not an image (a DICOMDIR, a report), listed but no failure. ``series_key``:
    the hashed SeriesInstanceUID of a failed file whose header names it (a truncated slice):
    ``convert --per series`` refuses it unless ``place`` or ``series_number`` says (failed_slices).
    """

    where: str
    reason: str
    skipped: bool = False
    series_key: str = ""
    place: tuple[float, ...] = ()
    series_number: int | None = None


def escape_name(name: str) -> str:
    """A printable, UTF-8-safe form of a file name.

    Bytes that are not UTF-8 (kept by :func:`os.fsdecode` as surrogates) and control
    characters (an ANSI escape that would clear a terminal) become backslash escapes such as
    ``x1b`` preceded by a backslash (see ``tests/pipeline/dicom/test_reading_cases.py``).
    """
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


# a quote opens after no letter or digit, or after a bytes prefix (b'...'); "image's" doesn't
_QUOTED = re.compile(r"""(?:(?<!\w)|(?<=\bb))(?:'[^']*'|"[^"]*")""")
_UIDLIKE = re.compile(r"\b\d+(?:\.\d+){3,}\b|\b[0-9A-Fa-f]{16,}\b")
_PATH = re.compile(r"\s*(?:in|for) file \S.*?(?=[,;]|$)|(?<![\w.])/[^\s,;'\"]+")
_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+")
_URL = re.compile(r"\s*Please see <[^>]*>[^.]*\.?|<https?://[^>]*>")


def sanitize(message: str, limit: int = 200) -> str:
    """A warning text without values: quoted values, UIDs and paths become hashed keys.

    Examples
    --------
    >>> sanitize("Invalid value for VR UI: '1.2.3.4.5'")  # doctest: +ELLIPSIS
    "Invalid value for VR UI: '#...'"
    """
    text = _URL.sub("", " ".join(without_addresses(message).split()))
    text = _PATH.sub("", text)
    text = _QUOTED.sub(_hash_quoted, text)
    text = _UIDLIKE.sub(lambda m: f"#{hash_key(m.group(0), length=8)}", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def without_addresses(message: str) -> str:
    """``message`` without memory addresses (``<_io.BytesIO object at 0x7f..>``).

    An address would make the same failure read differently in every run (``errors.csv``
    must be reproducible).

    Examples
    --------
    >>> without_addresses("cannot identify image file <_io.BytesIO object at 0x7f3a2c>")
    'cannot identify image file <_io.BytesIO object>'
    """
    return _ADDRESS.sub("", message)


_SAFE_WORDS = {"Dataset", "FileDataset", "FileMetaDataset", "DataElement", "RawDataElement",
               "Sequence", "MultiValue", "bytes", "str", "int", "float", "NoneType", "DSfloat",
               "IS", "UID", "PersonName", "list", "tuple"}  # fmt: skip


#: Photometric Interpretation (0028,0004) defined terms (PS3.3 C.7.6.3.1.2): no patient data.
_PHOTOMETRIC = {"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "HSV", "ARGB", "CMYK",
                "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_ICT",
                "YBR_RCT"}  # fmt: skip
_NAMES: set[str] = set()


def _hash_quoted(match: re.Match[str]) -> str:
    """Keep quoted keywords, element names, photometric terms, type names; hash the rest."""
    from pydicom.datadict import DicomDictionary, keyword_dict

    if not _NAMES:
        _NAMES.update(entry[2] for entry in DicomDictionary.values())
    inner = match.group(0)[1:-1]
    if inner in _SAFE_WORDS or inner in keyword_dict or inner in _PHOTOMETRIC or inner in _NAMES:
        return match.group(0)
    return f"'#{hash_key(inner, length=8)}'"


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Record the warnings raised inside the block; nothing is printed.

    The list is filled on exit, sanitized (:func:`sanitize`) and without repeats.
    """
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield messages
        finally:
            for w in caught:
                text = sanitize(warning_said(str(w.message)))
                if text not in messages:
                    messages.append(text)


def read_dataset(
    path: str | Path, rel: str, *, pixels: bool = False, max_bytes: int = 2**31
) -> Any:
    """Read a file with pydicom, or return a :class:`~pipeline.dicom.index.Problem`.

    Parameters
    ----------
    path, rel
        The file, and the name used in messages.
    pixels
        Read the pixel data too; otherwise it is deferred (its length stays known, so
        a truncated file can still be told apart).
    max_bytes
        Deflated files (1.2.840.10008.1.2.1.99) are inflated as a stream and refused past
        this many bytes (16 MiB without ``pixels``): a small file cannot become gigabytes.

    Notes
    -----
    Files without the 128-byte preamble or File Meta Information are accepted when they
    parse into a data set with a SOPInstanceUID; their transfer syntax is inferred from the
    encoding they parsed with (PS3.10 7.1; pydicom #860). Warnings are left to the caller
    (:func:`captured_warnings`): a warning that the end of the file came early turns the
    result into a "truncated file" problem.
    """
    try:
        if os.stat(path).st_size == 0:
            return Problem(rel, "empty file (0 bytes)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = _dcmread(path, rel, pixels, max_bytes)
        texts = [str(w.message) for w in caught]
        for w in caught:  # hand them on to the caller's capture, sanitized there
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if isinstance(ds, Problem):
            return ds
        return _check_read(ds, rel, path, texts)
    except FATAL:
        raise
    except BaseException as err:  # decoder panics derive from BaseException
        if isinstance(err, FileNotFoundError):  # its text is the path, which is not shown
            return Problem(rel, "file not found: removed or moved after the folder was listed")
        if isinstance(err, PermissionError):
            return Problem(rel, "permission denied: the file cannot be read")
        if _is_eof(str(err)) or isinstance(err, EOFError):
            return Problem(rel, f"truncated file: {sanitize(str(err)) or 'end of file'}")
        return Problem(rel, f"unreadable DICOM header: {read_failure(err, sanitize(str(err)))}")


def _is_eof(text: str) -> bool:
    return "eof" in (low := text.lower()).split() or "end of file" in low or "truncated" in low


def _dcmread(path: str | Path, rel: str, pixels: bool, max_bytes: int) -> Any:
    from pydicom.errors import InvalidDicomError

    with open(path, "rb") as fh:
        head = fh.read(2048)
    if DEFLATED.encode() in head:
        return _read_deflated(path, rel, pixels, max_bytes)
    defer = None if pixels else 4096
    try:  # the 'DICM' prefix is not always where it seems (dcm4che #981)
        moved = misplaced_prefix(head)  # and the data set in the byte order said?
        ds = read_from(path, moved) if moved else read_in_byte_order(path, head, defer)
        _infer_syntax(ds)  # File Meta without (0002,0010)
        return ds
    except InvalidDicomError:
        ds = read_bare(path, head, defer)
        if "SOPInstanceUID" not in ds and not _is_truncated_text(ds):
            return Problem(
                rel, "not a DICOM file (no DICM prefix, no DICOM header)" + _what_else(head, rel)
            )
        _infer_syntax(ds)
        return ds


#: Said of a PNG, NPY or NIfTI file among DICOM: the way radpipe reads them.
IMAGES_ADVICE = "radpipe run trains on PNG, NPY and NIfTI files with data.kind: images"


def _what_else(head: bytes, rel: str) -> str:
    """What a file that is not DICOM is, by its magic bytes (``""`` for anything else).

    An image radpipe reads another way (a ``.nii.gz`` is a NIfTI image, not an archive to
    unpack), an image to save as PNG first, or an archive or compressed file.
    """
    nifti = head[344:348] in (b"n+1\x00", b"ni1\x00") or head[4:8] in (b"n+2\x00", b"ni2\x00")
    if nifti or (head.startswith(b"\x1f\x8b") and rel.lower().endswith(".nii.gz")):
        return f": a NIfTI image; {IMAGES_ADVICE}"
    for magic, kind in ((b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\x93NUMPY", "a NumPy array")):
        if head.startswith(magic):
            return f": {kind}; {IMAGES_ADVICE}"
    for magic, kind in ((b"\xff\xd8\xff", "JPEG"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF")):
        if head.startswith(magic):
            return (f": a {kind} image; save it as PNG (lossless) to train on it with "
                    "data.kind: images")  # fmt: skip
    return _packed(head)


def _packed(head: bytes) -> str:
    """What an archive or compressed file is, by its magic bytes ("" for anything else)."""
    kinds = ((b"\x1f\x8b", "gzip"), (b"PK\x03\x04", "ZIP"), (b"BZh", "bzip2"),
             (b"\xfd7zXZ\x00", "xz"), (b"7z\xbc\xaf\x27\x1c", "7-Zip"))  # fmt: skip
    for magic, kind in kinds:
        if head.startswith(magic):
            return f": a {kind} archive or compressed file, not read inside; unpack it first"
    return ""


def _is_truncated_text(ds: Any) -> bool:
    return len(ds) > 0 and "SOPInstanceUID" in ds


def _infer_syntax(ds: Any) -> None:
    """Give a data set the transfer syntax it parsed with when it has none (pydicom #860).

    That is a file read without File Meta, or whose File Meta lacks (0002,0010).
    """
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return
    implicit, little = ds.original_encoding
    if implicit is None:
        return
    syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    if not little:
        syntax = ExplicitVRBigEndian
    what = "no File Meta Information" if not meta else "no TransferSyntaxUID (0002,0010)"
    ds.file_meta = meta if meta is not None else FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    notes = getattr(ds, "radpipe_notes", [])  # a misplaced 'DICM' prefix's, say
    ds.radpipe_notes = [*notes, f"{what}: transfer syntax inferred as {syntax.name}"]


def _read_deflated(path: str | Path, rel: str, pixels: bool, max_bytes: int) -> Any:
    """Inflate a Deflated Explicit VR Little Endian file as a stream, with a size cap."""
    from pydicom.filereader import _read_file_meta_info, read_dataset, read_preamble

    with open(path, "rb") as fh:
        read_preamble(fh, True)
        meta = _read_file_meta_info(fh)
        if meta.get("TransferSyntaxUID") != DEFLATED:
            fh.seek(0)
            from pydicom import dcmread

            return dcmread(fh, defer_size=None if pixels else 4096)
        cap = max_bytes if pixels else DEFLATE_HEADER_BYTES
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        chunks: list[bytes] = []
        total = 0
        while block := fh.read(2**20):
            piece = inflater.decompress(block, cap + 1 - total)
            while True:
                chunks.append(piece)
                total += len(piece)
                if total > cap or not inflater.unconsumed_tail:
                    break
                piece = inflater.decompress(inflater.unconsumed_tail, cap + 1 - total)
            if total > cap:
                if not pixels:
                    break  # the header is in the first part; pixel data is not read
                return Problem(
                    rel,
                    f"deflated data set inflates to more than {cap:,} bytes "
                    "(over the limit set by max_pixels; a deflate bomb?)",
                )
    body = b"".join(chunks)[:cap]
    seen: list[tuple[int, str | None, int]] = []

    def stop(tag: int, vr: str | None, length: int) -> bool:
        if tag in _PIXEL_TAGS and total > cap:  # cut short on purpose: note the element
            seen.append((tag, vr, length))
            return True
        return False

    ds = read_dataset(io.BytesIO(body), False, True, stop_when=stop)
    if seen:  # header only: keep the pixel element's length, not its (cut) value
        from pydicom.dataelem import RawDataElement
        from pydicom.tag import Tag

        tag, vr, length = seen[0]
        ds[tag] = RawDataElement(Tag(tag), vr, length, None, None, False, True)  # type: ignore[arg-type]
    ds.file_meta = meta
    ds.set_original_encoding(False, True, ds._character_set)
    return ds


def _check_read(ds: Any, rel: str, path: str | Path, texts: list[str]) -> Any:
    """Turn what pydicom tolerated into a problem when the file is cut short or is empty."""
    eof = [t for t in texts if _is_eof(t)]
    if len(ds) == 0 or (eof and "SeriesInstanceUID" not in ds):
        why = sanitize(eof[0]) if eof else "no data elements could be read"
        return Problem(rel, f"truncated file: {why}")
    if eof:
        ds.radpipe_truncated = sanitize(eof[0])
    for tag in _PIXEL_TAGS:
        elem = ds.get_item(tag, keep_deferred=True) if tag in ds else None
        tell = getattr(elem, "value_tell", None)
        length = getattr(elem, "length", 0)
        value = getattr(elem, "value", b"")
        if elem is not None and value is None and tell is not None:
            size = os.stat(path).st_size
            if length != 0xFFFFFFFF and tell + length > size:
                ds.radpipe_truncated = (
                    f"{_TAG_NAMES[tag]} holds {size - tell:,} of its {length:,} bytes"
                )
        elif isinstance(value, bytes) and length != 0xFFFFFFFF and len(value) < length:
            # read to the end of the file: refused as truncated once the header's image is
            # known to fit (decode.check_pixel_size), as inspect refuses it unread
            ds.radpipe_cut = f"{_TAG_NAMES[tag]} holds {len(value):,} of its {length:,} bytes"
    from pipeline.dicom import damaged_vr, lut, number_strings, pixel_encoding, repeated
    from pipeline.dicom.unsigned_vr import read_unsigned

    read_unsigned(ds, lut.little_endian(ds))  # no PixelRepresentation: 'US or SS' as US
    number_strings.note_number_strings(ds)  # 'Invalid value for VR IS' said with its name
    repeated.note_repeated_elements(ds, path)  # pydicom keeps the last of two, dcmtk the first
    refused = damaged_vr.swallowed_by_bad_vr(ds, path)
    refused = refused or pixel_encoding.match_pixel_encoding(ds, path)
    return Problem(rel, refused) if refused else ds


_TAG_NAMES = {0x7FE00010: "PixelData (7FE0,0010)", 0x7FE00008: "FloatPixelData (7FE0,0008)",
              0x7FE00009: "DoubleFloatPixelData (7FE0,0009)"}  # fmt: skip


def pixel_length(ds: Any) -> int | None:
    """Declared byte length of the pixel data element (native syntaxes), without loading it."""
    for tag in _PIXEL_TAGS:
        if tag in ds:
            elem = ds.get_item(tag, keep_deferred=True)
            length, exact = getattr(elem, "length", None), getattr(elem, "exact_length", False)
            if length is None or (not exact and getattr(elem, "value", None) is not None):
                value = ds[tag].value
                return None if value is None else len(value)
            return None if length == 0xFFFFFFFF else int(length)
    return None


def has_pixels(ds: Any) -> bool:
    """Whether any of PixelData, FloatPixelData or DoubleFloatPixelData is present."""
    return any(tag in ds for tag in _PIXEL_TAGS)


__all__ = ["FATAL", "OUTPUT_MARK", "Found", "captured_warnings", "escape_name", "find_files",
           "has_pixels", "pixel_length", "read_dataset", "sanitize",
           "without_addresses"]  # fmt: skip
