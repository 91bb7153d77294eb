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
(:func:`pipeline.dicom.pixel_encoding.lossy_stream_note`), and lossy all the same: the
``lossy`` cell says the stream's kind, whatever the syntax claims.
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom.groups import CONVERTED
from pipeline.dicom.lossy_frames import HEAD, fragment_heads, lossy_frames
from pipeline.dicom.pixel_encoding import LOSSLESS, stream_syntax, syntax_name

__all__ = ["lossy_history", "lossy_storage"]

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
    syntax, stream = _syntax(ds), lossy_storage(ds)
    said = [f"stored as {syntax_name(stream)}"] if stream else []
    if stream and stream != syntax:  # a lossy stream under a syntax that says otherwise
        said[-1] += f" (its own markers; TransferSyntaxUID (0002,0010) says {syntax_name(syntax)})"
    where, holder = _lossy_flag(ds)
    if holder is not None:
        said.append(f"LossyImageCompression (0028,2110) 01{where}")
    if not said:
        return ""
    holder = ds if holder is None else holder
    if ratio := _text(holder.get("LossyImageCompressionRatio")):
        said.append(f"ratio {ratio.replace('/', ':1/')}:1")
    if method := _text(holder.get("LossyImageCompressionMethod")):
        said.append(f"method {method}")
    return ", ".join(said)


def _syntax(ds: Any) -> str:
    meta = getattr(ds, "file_meta", None)
    return _text(meta.get("TransferSyntaxUID") if meta is not None else None)


def lossy_storage(ds: Any) -> str:
    """The lossy syntax the pixel data of ``ds`` is stored in, or ``""`` (stored lossless).

    A lossy syntax (JPEG baseline, extended, video), else the first frame whose own markers
    say lossy (:func:`_lossy_stream`), whatever the syntax says.
    """
    syntax = _syntax(ds)
    return syntax if syntax in _LOSSY else _lossy_stream(ds, syntax)


def _lossy_flag(ds: Any) -> tuple[str, Any]:
    """Where LossyImageCompression is "01": ``("", ds)`` at the top level, else in a frame's.

    A Legacy Converted Enhanced object (PS3.3 A.70-A.72) keeps its sources' attributes that no
    functional group holds in its Unassigned Shared/Per-frame Converted Attributes: a source
    that was lossy, the others not, leaves "01" in one frame's item and perhaps "00" (or
    nothing) at the top level, which alone was read: the whole file was said lossless.
    ``("", None)`` when nothing says "01".
    """
    if _text(ds.get("LossyImageCompression")) == "01":
        return "", ds
    shared = list(ds.get("SharedFunctionalGroupsSequence") or ())[:1]
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or ()
    places = [("all frames'", item) for item in shared]
    places += [(f"frame {k + 1}'s", item) for k, item in enumerate(per_frame)]
    for at, item in places:
        for name in CONVERTED:
            for sub in list(item.get(name) or ())[:1]:
                if _text(sub.get("LossyImageCompression")) == "01":
                    return f" in {at} {name} ({_TAGS[name]})", sub
    return "", None


_TAGS = {CONVERTED[0]: "0020,9171", CONVERTED[1]: "0020,9170"}


def _lossy_stream(ds: Any, syntax: str) -> str:
    """The syntax of the first frame whose own markers say lossy, whatever the syntax says.

    JPEG baseline or extended, JPEG-LS NEAR > 0, the 9/7 wavelet; ``""`` when no frame is or
    the pixel data is native.

    A lossy stream under a lossless-only syntax (a baseline JPEG filed as JPEG Lossless) was
    only a problem note, and its ``lossy`` cell was empty: the column read as lossless.
    """
    if syntax not in _EITHER | LOSSLESS:
        return ""
    heads = fragment_heads(ds) or []
    lossy = lossy_frames(heads)
    return str(stream_syntax(heads[lossy[0]][:HEAD]) or "") if lossy else ""
