"""A data set written in the other byte order than its File Meta's TransferSyntaxUID says.

The File Meta group is always Explicit VR Little Endian; the data set after it is in the
byte order of TransferSyntaxUID (0002,0010) (PS3.10 7.1, PS3.5 7.3). Writers that copy a
File Meta from elsewhere, or convert a data set's encoding and not its meta (or the reverse),
leave Explicit VR Big Endian over little-endian data, or a little-endian syntax over big-endian
data (pydicom #1009, dcmtk's "dcmconv +te" run on the meta alone). pydicom reads such a data
set as its meta says: the first tag, (0008,0005) in the wrong byte order, reads (0800,0500),
every length is wrong, and radpipe refused the file as "truncated or incomplete file: the data
set ends at (0800,1600)", which pointed at the file's end, not at its byte order.

The byte order is told by the first data set tag: every data set starts with a low group
(0008 for an image; 0004 a DICOMDIR), whose number in the wrong order is ``0x0800`` or the
like, a group no data set starts with. Such a file is read in the byte order of its data
(Explicit VR; an implicit VR little-endian data set is told apart by pydicom, which says so),
its TransferSyntaxUID set to what it was read as, and a note says so.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

__all__ = ["byte_order_fix", "read_bare", "read_implicit_big_endian", "read_in_byte_order"]

_LITTLE = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
_BIG = "1.2.840.10008.1.2.2"
_NAMES = {_LITTLE[0]: "Implicit VR Little Endian", _LITTLE[1]: "Explicit VR Little Endian",
          _BIG: "Explicit VR Big Endian"}  # fmt: skip
#: VRs with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1).
_LONG = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}


def _meta(head: bytes) -> tuple[str, int] | None:
    """The File Meta's TransferSyntaxUID and where the data set starts, from a file's head.

    ``None`` unless the head holds a preamble, 'DICM' and a whole File Meta group in Explicit
    VR Little Endian followed by at least one tag.
    """
    if head[128:132] != b"DICM":
        return None
    pos, syntax = 132, None
    while pos + 4 <= len(head):
        group, element = struct.unpack_from("<HH", head, pos)
        if group != 2:
            return (syntax, pos) if syntax else None
        if pos + 12 > len(head):
            return None
        vr = head[pos + 4 : pos + 6]
        if vr in _LONG:
            (length,) = struct.unpack_from("<I", head, pos + 8)
            start = pos + 12
        else:
            (length,) = struct.unpack_from("<H", head, pos + 6)
            start = pos + 8
        if element == 0x0010:
            syntax = head[start : start + length].decode("latin-1").strip("\0 ")
        pos = start + length
    return None


def byte_order_fix(head: bytes) -> tuple[bool, str] | None:
    r"""``(little, note)`` when the data set is in the other byte order than its syntax says.

    ``little``: the byte order the data set is in. ``None`` when the order agrees, the
    syntax is not one of the three native ones, or the head cannot tell.

    Examples
    --------
    >>> meta = b"\x02\x00\x10\x00UI\x14\x00" + b"1.2.840.10008.1.2.2\x00"
    >>> byte_order_fix(bytes(128) + b"DICM" + meta + b"\x08\x00\x05\x00CS")[0]
    True
    """
    found = _meta(head)
    if found is None or found[0] not in (*_LITTLE, _BIG) or found[1] + 2 > len(head):
        return None
    syntax, start = found
    as_said = struct.unpack_from("<H" if syntax != _BIG else ">H", head, start)[0]
    swapped = ((as_said & 0xFF) << 8) | (as_said >> 8)
    if not (2 < swapped <= 0xFF and as_said > 0xFF):
        return None
    little = syntax == _BIG
    note = (f"TransferSyntaxUID (0002,0010) is {_NAMES[syntax]} but the data set is "
            f"{'little' if little else 'big'} endian (its first group, "
            f"{swapped:04X}, reads {as_said:04X} the other way): read as "
            f"{'little' if little else 'big'} endian")  # fmt: skip
    return little, note


def read_in_byte_order(path: str | Path, head: bytes, defer: int | None) -> Any:
    """The file read with pydicom in its data set's byte order, its syntax set to match.

    The order is :func:`byte_order_fix`'s of its ``head`` (the first bytes), noted when it
    is not the one the syntax says.

    Notes
    -----
    pydicom's private ``_read_file_meta_info`` is used here and in
    :func:`pipeline.dicom.files._read_deflated`, not the public ``read_file_meta_info``: the
    public one takes a path, opens and closes the file and requires the preamble, so it cannot
    leave the stream where the data set begins; working that place out from
    FileMetaInformationGroupLength instead would part from pydicom on files whose group length
    is wrong, which pydicom reads by the group's elements. ``tests/pipeline/dicom/
    test_pydicom_meta_reader.py`` fails first if a pydicom release changes it.
    """
    from pydicom import dcmread
    from pydicom.dataset import FileDataset
    from pydicom.filereader import _read_file_meta_info, read_dataset, read_preamble
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    fix = byte_order_fix(head)
    if fix is None:
        return dcmread(path, defer_size=defer)
    little, note = fix
    with open(path, "rb") as fh:
        preamble = read_preamble(fh, False)
        meta = _read_file_meta_info(fh)
        ds = read_dataset(fh, is_implicit_VR=False, is_little_endian=little, defer_size=defer)
    implicit = bool(ds.original_encoding[0])
    syntax = ExplicitVRBigEndian if not little else ExplicitVRLittleEndian
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else syntax
    out = FileDataset(str(path), ds, preamble=preamble, file_meta=meta,
                      is_implicit_VR=implicit, is_little_endian=little)  # fmt: skip
    out.set_original_encoding(implicit, little, ds.original_character_set)
    out.radpipe_notes = [f"{note} ({meta.TransferSyntaxUID.name})"]
    return out


#: The note on a data set read as Implicit VR Big Endian (:func:`read_implicit_big_endian`).
IMPLICIT_BIG_ENDIAN = (
    "no File Meta Information: the data set is Implicit VR Big Endian (the ACR-NEMA byte "
    "order, which no DICOM transfer syntax has, PS3.5 A.1), read so, as GDCM "
    "(ImplicitVRBigEndianACRNEMA) and dcmtk (EXS_BigEndianImplicit) read it, its pixel words "
    "big-endian"
)


def implicit_big_endian(head: bytes) -> bool:
    r"""Whether a file without preamble and File Meta starts as an Implicit VR Big Endian set.

    Its first tag is a low even group read big-endian (0008: 00 08), read little-endian
    ``0x0800`` or the like, and its next 4 bytes are a big-endian length, not a VR's letters.

    Examples
    --------
    >>> implicit_big_endian(b"\x00\x08\x00\x00\x00\x00\x00\x04" + bytes(4))
    True
    >>> implicit_big_endian(b"\x00\x08\x00\x05CS\x00\x0a")  # Explicit VR Big Endian
    False
    """
    if len(head) < 8 or head[128:132] == b"DICM":
        return False
    group, _ = struct.unpack_from(">HH", head)
    (length,) = struct.unpack_from(">I", head, 4)
    letters = head[4:6].isalpha() and head[4:6].isupper()
    return 2 < group <= 0xFF and group % 2 == 0 and not letters and length < 2**16


def read_implicit_big_endian(path: str | Path, head: bytes, defer: int | None) -> Any:
    """A file without File Meta whose data set is Implicit VR Big Endian, read so; else ``None``.

    pydicom guesses a bare data set's encoding among the three DICOM ones and read such a file
    (ACR-NEMA 2.0 and early DICOM exports) as garbage: radpipe said "not a DICOM file". Read
    with that encoding, it is given Explicit VR Big Endian as its syntax (the pixel data's byte
    order; its elements are already read) and :data:`IMPLICIT_BIG_ENDIAN` as its note. ``None``
    when the head does not look so or the data set lacks a SOPInstanceUID (as for other files
    without File Meta, :func:`pipeline.dicom.files.read_dataset`).
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.filereader import read_dataset
    from pydicom.uid import ExplicitVRBigEndian

    if not implicit_big_endian(head):
        return None
    try:
        with open(path, "rb") as fh:
            ds = read_dataset(fh, is_implicit_VR=True, is_little_endian=False, defer_size=defer)
    except Exception:  # no such data set after all: read as before, said as before
        return None
    if "SOPInstanceUID" not in ds or ds.original_encoding != (True, False):
        return None
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRBigEndian
    out = FileDataset(str(path), ds, preamble=None, file_meta=meta,
                      is_implicit_VR=True, is_little_endian=False)  # fmt: skip
    out.set_original_encoding(True, False, ds.original_character_set)
    out.radpipe_notes = [IMPLICIT_BIG_ENDIAN]
    return out


def read_bare(path: str | Path, head: bytes, defer: int | None) -> Any:
    """A file in which pydicom found no preamble and File Meta, read as its head says.

    Implicit VR Big Endian (:func:`read_implicit_big_endian`), else pydicom's own guess
    (``force=True``) among the three DICOM encodings.
    """
    from pydicom import dcmread

    found = read_implicit_big_endian(path, head, defer)
    return found if found is not None else dcmread(path, defer_size=defer, force=True)
