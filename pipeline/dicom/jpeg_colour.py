"""The colour space of a lossy T.81 JPEG's samples, as the codestream says it (not the header).

A JPEG baseline stream of three components is almost always YCbCr: every common encoder
converts RGB first, and the header should then say YBR_FULL_422 (PS3.5 8.2.1). Many files
say RGB all the same (a header written before compression, DICOM CP-156's ambiguity). With
no marker in the stream, pydicom's pylibjpeg path trusted the header and gave the YCbCr
samples as RGB: red came out blue-violet (200, 30, 30 as 81, 99, 213), unsaid (pydicom PR
#2280, pylibjpeg-libjpeg #29, pylibjpeg #41 "solid green image"; 3D Slicer PR #7656 rewrites
such headers to YBR_FULL_422). libjpeg (``jdapimin.c``, ``default_decompress_parms``), and
so Pillow, decide from the stream: a JFIF APP0 marker means YCbCr; an Adobe APP14 marker
says by its transform flag (0: RGB, 1: YCbCr); else component IDs 'R', 'G', 'B' mean RGB,
and 1, 2, 3 (JFIF's Y, Cb, Cr) YCbCr. radpipe reads an RGB header over a lossy T.81 stream
by those rules, and says so when it reads YCbCr. Other IDs without a marker stay as the
header says: libjpeg guesses YCbCr there, but libjpeg 6b writes RGB as IDs 0, 1, 2, and
whole-slide tiles so written without their Adobe marker are RGB (pydicom's
``SC_jpeg_no_color_transform.dcm``, PR #878).
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom import codestream
from pipeline.dicom.ybr422 import pairs_note
from pipeline.errors import DicomError

#: Lossy T.81 syntaxes (last UID component) and the YBR term pydicom reads each as.
_LOSSY = {"50": "YBR_FULL_422", "51": "YBR_FULL"}
#: JPEG 2000 and HTJ2K syntaxes (last UID component).
_J2K = {"90", "91", "92", "93", "201", "202", "203"}
#: T.81 start-of-frame markers (Table B.1), JPEG-LS's SOF55 aside.
_T81_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def stream_colour(data: bytes) -> tuple[str, str] | None:
    """``("RGB" | "YCbCr", why)`` for a 3-component T.81 frame, by libjpeg's rule; else None."""
    marker_says: tuple[str, str] | None = None
    for marker, body in codestream.jpeg_segments(data):
        if marker == 0xE0 and body.startswith(b"JFIF") and marker_says is None:
            marker_says = ("YCbCr", "a JFIF APP0 marker (YCbCr by definition)")
        elif marker == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            found = "RGB" if body[11] == 0 else "YCbCr"
            marker_says = marker_says or (found, f"an Adobe APP14 marker, transform {body[11]}")
        elif marker in _T81_SOF:
            return _by_components(body, marker_says)
    return None


def _by_components(sof: bytes, marker_says: tuple[str, str] | None) -> tuple[str, str] | None:
    if len(sof) < 6 + 9 or sof[5] != 3:
        return None  # not three components: no colour transform to decide
    if marker_says is not None:
        return marker_says
    ids = bytes(sof[6 + 3 * k] for k in range(3))
    if ids in (b"RGB", b"rgb"):
        return "RGB", "component IDs 'R', 'G', 'B'"
    if ids == b"\x01\x02\x03":  # JFIF's Y, Cb, Cr: what libjpeg takes for JFIF without APP0
        return "YCbCr", "no JFIF or Adobe marker, and JFIF's component IDs 1, 2, 3"
    return None  # libjpeg 6b writes RGB as IDs 0, 1, 2 (Aperio tiles drop the Adobe marker)


def j2k_colour_transform(data: bytes) -> str:
    """``"RCT"``/``"ICT"`` when a JPEG 2000 codestream applies its colour transform; else ``""``.

    The COD marker's multiple component transform flag (ISO 15444-1 A.6.1, Table A.17): G.2
    reversible with the 5/3 wavelet, G.3 irreversible with the 9/7.
    """
    for marker, body in codestream.jpeg_segments(data):
        # COD: Scod, progression, layers (2), MCT, levels, cb w, cb h, style, wavelet
        if marker == 0x52:
            if len(body) < 10 or body[4] != 1:
                return ""
            return "RCT" if body[9] == 1 else "ICT"
        if marker == 0x90:  # SOT: the main header ended without a COD
            return ""
    return ""


def colour_options(
    ds: Any, syntax: str | None, samples: int, photometric: str, first: bytes | None,
    notes: list[str], source: str = "",
) -> dict[str, Any]:  # fmt: skip
    """Decoding options (pydicom names) for colour pixel data: planar layout, colour space.

    ``first``: the first encapsulated frame (``None`` for native data). PlanarConfiguration
    as :func:`pipeline.dicom.codestream.reads_interleaved` says; an RGB header over a lossy
    T.81 stream of YCbCr samples (:func:`stream_colour`) read as YBR, noted; a YBR_FULL header
    over a JPEG 2000 stream with its colour transform (:func:`j2k_colour_transform`), whose
    decoder gives RGB, read as RGB (pydicom converted it a second time: red (200, 30, 30)
    came out (63, 255, 26)), noted. A lossy T.81 stream under a term no JPEG decoder converts
    from (:data:`_FOREIGN`) is read as its markers say (:func:`_foreign_says`).

    Raises
    ------
    DicomError
        Such a stream whose markers do not say (named ``source``).
    """
    from pipeline.dicom import values

    options: dict[str, Any] = {}
    if samples < 3:
        return options
    planar = values.integer(ds, "PlanarConfiguration", None, maximum=1)
    if codestream.reads_interleaved(syntax, planar) or pairs_note(photometric, syntax, planar):
        options["planar_configuration"] = 0  # noted by the header check (planar_note)
    last = str(syntax or "").rpartition(".")[2]
    if first is None or photometric not in ("RGB", "YBR_FULL", "YBR_FULL_422", *_FOREIGN):
        return options
    found = _j2k_says(first, photometric) if last in _J2K and photometric not in _FOREIGN else None
    if last in _LOSSY and photometric in _FOREIGN:
        found = _foreign_says(first, photometric, _LOSSY[last], source)
    elif last in _LOSSY:
        found = _t81_says(first, photometric, _LOSSY[last])
    if found is not None:
        options["photometric_interpretation"], note = found
        notes.append(note)
    return options


def colour_notes(ds: Any, first: bytes | None) -> list[str]:
    """What :func:`colour_options` says of the header's colour space (for ``inspect``)."""
    from pipeline.dicom import values

    notes: list[str] = []
    try:
        samples = values.integer(ds, "SamplesPerPixel", 1) or 1
        meta = getattr(ds, "file_meta", None)
        syntax = meta.get("TransferSyntaxUID") if meta is not None else None
        photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
        colour_options(ds, syntax, samples, photometric, first, notes)
    except DicomError:  # colours unknown: refused, as convert refuses it
        raise
    except Exception:  # unreadable values are the header checks' to say
        return []
    return notes


def _j2k_says(first: bytes, photometric: str) -> tuple[str, str] | None:
    """A YBR header over a JPEG 2000 stream that applies its colour transform: RGB, and why."""
    mct = j2k_colour_transform(first)
    if photometric == "RGB" or not mct:
        return None
    return "RGB", (
        f"PhotometricInterpretation (0028,0004) is {photometric}, but the JPEG 2000 stream "
        f"applies its multi-component transform ({mct}), which the decoder undoes to RGB "
        "(PS3.5 8.2.4: such a stream is YBR_RCT or YBR_ICT): read as RGB, not converted a "
        "second time"
    )


#: Three-sample terms a T.81 decoder does not convert from: retired (YBR_PARTIAL_422, HSV),
#: MPEG's (YBR_PARTIAL_420) or JPEG 2000's (YBR_ICT, YBR_RCT) (PS3.3 C.7.6.3.1.2).
_FOREIGN = ("YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT", "HSV")


def _foreign_says(first: bytes, photometric: str, ybr: str, source: str) -> tuple[str, str]:
    """A lossy T.81 stream under a :data:`_FOREIGN` term: the space its markers say, and why.

    pydicom left such samples as decoded, so the YCbCr of a JFIF stream was written as RGB
    (red (200, 30, 30) as (81, 99, 213)), unsaid; libjpeg, Pillow and dcmtk read the stream.

    Raises
    ------
    DicomError
        When the markers do not say (:func:`stream_colour`): the colours are unknown.
    """
    said = stream_colour(first)
    name = "PhotometricInterpretation (0028,0004)"
    if said is None:
        raise DicomError(source, f"{name} is {photometric}, which no JPEG decoder converts "
                                 "from, and the JPEG stream's markers do not say whether its "
                                 "samples are RGB or YCbCr (no JFIF or Adobe marker, component "
                                 "IDs other than 'R', 'G', 'B' or 1, 2, 3): its colours are "
                                 "unknown.")  # fmt: skip
    done = "converted to RGB" if said[0] == "YCbCr" else "read as RGB"
    return ybr if said[0] == "YCbCr" else "RGB", (
        f"{name} is {photometric}, which no JPEG decoder converts from, but the JPEG stream's "
        f"samples are {said[0]} ({said[1]}): {done} as libjpeg and Pillow read it (read as "
        f"{photometric}, they were written as RGB unconverted)"
    )


def _t81_says(first: bytes, photometric: str, ybr: str) -> tuple[str, str] | None:
    """A lossy T.81 stream whose colour space is not the header's: that space, and why."""
    said = stream_colour(first)
    if said is None or (said[0] == "RGB") == (photometric == "RGB"):
        return None
    if said[0] == "YCbCr":
        return ybr, (
            f"PhotometricInterpretation (0028,0004) is RGB, but the JPEG stream's samples are "
            f"YCbCr ({said[1]}): converted to RGB as libjpeg and Pillow read it (read as RGB, "
            "its colours would be wrong)"
        )
    return "RGB", (
        f"PhotometricInterpretation (0028,0004) is {photometric}, but the JPEG stream's samples "
        f"are RGB ({said[1]}): read as RGB, as libjpeg and Pillow read it, not converted from "
        "YBR"
    )


__all__ = ["colour_notes", "colour_options", "stream_colour"]
