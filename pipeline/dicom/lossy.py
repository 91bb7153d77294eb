"""Lossy compression history, for the manifest's ``lossy`` column.

A file whose pixels went through lossy compression holds values that differ from the
scanner's by the compression error, whether it is still stored compressed (JPEG baseline, a
JPEG 2000 codestream of the irreversible 9/7 wavelet) or was decompressed by a PACS or a
viewer and stored uncompressed: then only Lossy Image Compression (0028,2110) "01" says so
(PS3.3 C.7.6.1.1.5: once "01", a file keeps it through every later decompression), with
LossyImageCompressionRatio (0028,2112) and LossyImageCompressionMethod (0028,2114). radpipe
said nothing of either. This is information, not a defect of the file or of its conversion:
the values written are the file's, so the ``lossy`` column says it (as ``units`` says what
the values are in), and ``problems`` and ``--strict`` are left to what went wrong. A lossy
stream under a syntax that is lossless only is a contradiction and a problem
(:func:`pipeline.dicom.pixel_encoding.lossy_stream_note`).
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom.pixel_encoding import (
    LOSSY_STREAMS,
    first_fragment,
    stream_syntax,
    syntax_name,
)

__all__ = ["lossy_history"]

#: Transfer syntaxes that are lossy by definition: JPEG baseline and extended (T.81 DCT),
#: MPEG-2, MPEG-4 AVC/H.264 and HEVC/H.265 video (PS3.5 A.4.2, 8.2.5-8.2.7).
_LOSSY = {f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, *range(100, 109))}
#: Syntaxes whose streams may be lossy or not (JPEG-LS near-lossless, JPEG 2000, HTJ2K):
#: the first frame's markers say which.
_EITHER = {f"1.2.840.10008.1.2.4.{n}" for n in (81, 91, 203)}


def _text(value: Any) -> str:
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "/".join(map(_text, value))
    if isinstance(value, float):  # a DS ratio, 10.0 as 10
        return f"{value:g}"
    return str(value if value is not None else "").strip()


def lossy_history(ds: Any) -> str:
    """What says the pixels of ``ds`` went through lossy compression, or ``""``.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.LossyImageCompression, ds.LossyImageCompressionRatio = "01", 10
    >>> ds.LossyImageCompressionMethod = "ISO_10918_1"
    >>> lossy_history(ds)
    'LossyImageCompression (0028,2110) 01, ratio 10:1, method ISO_10918_1'
    """
    meta = getattr(ds, "file_meta", None)
    syntax = _text(meta.get("TransferSyntaxUID") if meta is not None else None)
    said = []
    if syntax in _LOSSY or (syntax in _EITHER and _stream_lossy(ds)):
        said.append(f"stored as {syntax_name(syntax)}")
    if _text(ds.get("LossyImageCompression")) == "01":
        said.append("LossyImageCompression (0028,2110) 01")
    if not said:
        return ""
    if ratio := _text(ds.get("LossyImageCompressionRatio")):
        said.append(f"ratio {ratio.replace('/', ':1/')}:1")
    if method := _text(ds.get("LossyImageCompressionMethod")):
        said.append(f"method {method}")
    return ", ".join(said)


def _stream_lossy(ds: Any) -> bool:
    """Whether the first frame's own markers say lossy (JPEG-LS NEAR > 0, 9/7 wavelet)."""
    first = first_fragment(ds)
    return first is not None and stream_syntax(first) in LOSSY_STREAMS
