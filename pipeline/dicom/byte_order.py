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

__all__ = ["byte_order_fix", "read_in_byte_order"]

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
