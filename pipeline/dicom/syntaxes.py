"""Transfer syntaxes DICOM defines whose pixel data no installed decoder reads.

PS3.6 Table A-1 keeps growing: JPEG XL (Supplement 232, 2024) and Deflated Image Frame
Compression (PS3.5 8.2.16, 2024; highdicom writes binary segmentations with it) are newer
than pydicom 3.0's table of transfer syntaxes, so ``UID.is_transfer_syntax`` says no and such
files were refused as damaged or private ("no transfer syntax DICOM defines"). JPIP Referenced
syntaxes keep the pixel data outside the file (PS3.5 A.4.6), and SMPTE ST 2110 ones hold
video in a form no pydicom plugin decodes: ``inspect`` listed those as images, and
``convert`` failed in pydicom's words. Each is named here, so both commands refuse it with
the same reason.
"""

from __future__ import annotations

__all__ = ["unreadable_syntax"]

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


def unreadable_syntax(uid: str) -> str | None:
    """Why pixel data in transfer syntax ``uid`` cannot be read, else ``None``.

    ``None`` when it can be tried (a decoder may be installed) or ``uid`` is not one DICOM
    defines (said elsewhere).
    """
    found = _UNREADABLE.get(uid.strip())
    if found is None:
        return None
    import pydicom

    name, why = found
    why = why.format(version=pydicom.__version__)
    return (f"TransferSyntaxUID (0002,0010) is {name} ({uid.strip()}), a transfer syntax DICOM "
            f"defines (PS3.6 Table A-1), but {why}.")  # fmt: skip
