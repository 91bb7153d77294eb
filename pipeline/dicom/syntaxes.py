"""Transfer syntaxes DICOM defines whose pixel data no installed decoder reads.

PS3.6 Table A-1 keeps growing: JPEG XL (Supplement 232, 2024) and Deflated Image Frame
Compression (PS3.5 8.2.16, 2024; highdicom writes binary segmentations with it) are newer
than pydicom 3.0's table of transfer syntaxes, so ``UID.is_transfer_syntax`` says no and such
files were refused as damaged or private ("no transfer syntax DICOM defines"). JPIP Referenced
syntaxes keep the pixel data outside the file (PS3.5 A.4.6), and SMPTE ST 2110 ones hold
video in a form no pydicom plugin decodes: ``inspect`` listed those as images, and
``convert`` failed in pydicom's words. Each is named here, so both commands refuse it with
the same reason; so is every other one pydicom knows but has no decoder for (JPEG 2000 Part 2
Multi-component, MPEG-2, MPEG-4 and HEVC video: :func:`unreadable_syntax`), which ``inspect``
listed as clean images while ``convert`` failed in pydicom's words. GE's private syntax
(:data:`GE_PRIVATE`), which GDCM and fo-dicom read, is read the same way
(:func:`ge_private_note`; the pixels in :mod:`pipeline.dicom.decode`).
"""

from __future__ import annotations

from typing import Any

from pipeline.errors import DicomError

__all__ = [
    "DEFLATED",
    "GE_PRIVATE",
    "ITEM",
    "NATIVE_LITTLE_ENDIAN",
    "RLE_LOSSLESS",
    "SEQUENCE_DELIMITER",
    "ge_private_note",
    "unreadable_syntax",
]

#: GE's private "Implicit VR Big Endian DLX" (old GE DLX angiography and MR exports): the data
#: set is Implicit VR Little Endian, the pixel data's 16-bit words are big-endian, and 8-bit
#: pixel data is a plain byte stream (GDCM's ``ImageCodec::DoByteSwap``; dicomParser #107).
GE_PRIVATE = "1.2.840.113619.5.2"

#: Deflated Explicit VR Little Endian: the data set after the File Meta is deflated whole.
DEFLATED = "1.2.840.10008.1.2.1.99"
#: Native (not encapsulated) little-endian syntaxes: Implicit VR, Explicit VR, and Deflated
#: Explicit VR (its pixel data native once inflated).
NATIVE_LITTLE_ENDIAN = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", DEFLATED})

#: RLE Lossless (PS3.5 A.4.2, Annex G): encapsulated, one fragment per frame.
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
#: The Item tag (FFFE,E000) and Sequence Delimitation Item tag (FFFE,E0DD) as little-endian
#: bytes: encapsulated pixel data is an offset table item, fragment items, then the
#: delimiter (PS3.5 A.4).
ITEM = b"\xfe\xff\x00\xe0"
SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0"

_PIXELS_ELSEWHERE = (
    "its pixel data is not in the file but referenced by PixelDataProviderURL (0028,7FE0), "
    "and radpipe reads nothing from the network: retrieve the object with its pixel data "
    "(a transfer syntax that holds them) and convert that"
)
_NO_DECODER = (
    "no installed decoder reads it (pydicom {version} does not); decompress the file to a "
    "native transfer syntax with a tool that reads it, then convert that"
)
#: UID -> (name, why the pixel data cannot be read).
_UNREADABLE = {
    "1.2.840.10008.1.2.4.110": ("JPEG XL Lossless", _NO_DECODER),
    "1.2.840.10008.1.2.4.111": ("JPEG XL JPEG Recompression", _NO_DECODER),
    "1.2.840.10008.1.2.4.112": ("JPEG XL", _NO_DECODER),
    "1.2.840.10008.1.2.8.1": ("Deflated Image Frame Compression", _NO_DECODER),
    "1.2.840.10008.1.2.7.1": ("SMPTE ST 2110-20 Uncompressed Progressive Active Video",
                              _NO_DECODER),
    "1.2.840.10008.1.2.7.2": ("SMPTE ST 2110-20 Uncompressed Interlaced Active Video",
                              _NO_DECODER),
    "1.2.840.10008.1.2.7.3": ("SMPTE ST 2110-30 PCM Digital Audio", _NO_DECODER),
    "1.2.840.10008.1.2.4.94": ("JPIP Referenced", _PIXELS_ELSEWHERE),
    "1.2.840.10008.1.2.4.95": ("JPIP Referenced Deflate", _PIXELS_ELSEWHERE),
    "1.2.840.10008.1.2.4.204": ("JPIP HTJ2K Referenced", _PIXELS_ELSEWHERE),
    "1.2.840.10008.1.2.4.205": ("JPIP HTJ2K Referenced Deflate", _PIXELS_ELSEWHERE),
}  # fmt: skip


def ge_private_note(ds: Any) -> str:
    """The note on a file in :data:`GE_PRIVATE` syntax, or a refusal (:class:`DicomError`).

    Read as GDCM reads it: grey images of 8 or 16 bits allocated; other pixel layouts, which
    no reader documents, are refused.
    """
    bits = ds.get("BitsAllocated")
    term = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    samples = ds.get("SamplesPerPixel", 1)
    name = f"GE's private Implicit VR Big Endian DLX ({GE_PRIVATE})"
    if bits not in (8, 16) or samples != 1 or term not in ("MONOCHROME1", "MONOCHROME2"):
        raise DicomError("", f"TransferSyntaxUID (0002,0010) is {name}: only grey images of 8 "
                             f"or 16 bits are read in it; got {term or 'no term'}, "
                             f"BitsAllocated {bits}, SamplesPerPixel {samples}.")  # fmt: skip
    if bits == 8:
        return f"TransferSyntaxUID (0002,0010) is {name}: read as Implicit VR Little Endian"
    return (f"TransferSyntaxUID (0002,0010) is {name}: read as Implicit VR Little Endian with "
            "big-endian 16-bit pixel words, as GDCM reads it")  # fmt: skip


#: Encapsulated Uncompressed Explicit VR Little Endian: pydicom has no decoder for it, radpipe
#: reads its native frames itself (:mod:`pipeline.dicom.encapsulated_native`).
_READ_HERE = frozenset({"1.2.840.10008.1.2.1.98"})


def _without_decoder(uid: str) -> str | None:
    """The name of ``uid`` if pydicom has no decoder for this transfer syntax, else ``None``.

    Not even one whose plugin is missing (that is said when decoding); ``None`` too for a UID
    pydicom does not know as a transfer syntax (said by the header checks).
    """
    from pydicom.uid import UID

    found = UID(uid)
    if uid in _READ_HERE or not found.is_transfer_syntax:
        return None
    from pydicom.pixels import get_decoder

    try:
        get_decoder(found)
    except NotImplementedError:
        return str(found.name)
    return None


def unreadable_syntax(uid: str) -> str | None:
    """Why pixel data in transfer syntax ``uid`` cannot be read, else ``None``.

    ``None`` when it can be tried (a decoder may be installed) or ``uid`` is not one DICOM
    defines (said elsewhere).
    """
    found = _UNREADABLE.get(uid.strip())
    if found is None:
        name = _without_decoder(uid.strip())
        if name is None:
            return None
        found = (name, _NO_DECODER)
    import pydicom

    name, why = found
    why = why.format(version=pydicom.__version__)
    return (f"TransferSyntaxUID (0002,0010) is {name} ({uid.strip()}), a transfer syntax DICOM "
            f"defines (PS3.6 Table A-1), but {why}.")  # fmt: skip
