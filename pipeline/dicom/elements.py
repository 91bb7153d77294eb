"""The element walk of :mod:`pipeline.dicom.plain`: File Meta and sequences, PS3.5 7.1.

The walk (:func:`pipeline.dicom.top_level.walk`, with :func:`file_meta` and
:func:`skip_sequence` here) raises :class:`Odd` for anything that is not plain (the caller
then reads the file with pydicom) and :class:`Short` when it needs more bytes than it was given;
:func:`value` converts a held element's bytes the way pydicom does for clean values and raises
:class:`Odd` for any other.
"""

from __future__ import annotations

import re
import struct
import warnings
from typing import Any

_LONG = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT",
         b"UV"}  # fmt: skip
_VRS = _LONG | {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO",
                b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}  # fmt: skip
#: The VRs of PS3.5 7.1.2 with a 4-byte length (after 2 reserved bytes), and all of them.
LONG_VRS, VRS = frozenset(_LONG), frozenset(_VRS)
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_CHARSET = 0x00080005
FIRST_READ = 16384
MAX_HEADER = 4 * 2**20
_MAX_DEPTH = 32

#: The attributes converted here (others present are read by pydicom on first use).
HELD = (
    "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
    "PhotometricInterpretation", "ImageType", "VOILUTFunction", "PresentationLUTShape",
    "PatientID", "SeriesDescription", "Rows", "Columns", "SamplesPerPixel", "BitsAllocated",
    "BitsStored", "HighBit", "PixelRepresentation", "PlanarConfiguration", "NumberOfFrames",
    "InstanceNumber", "SeriesNumber", "AcquisitionNumber", "EchoNumbers",
    "TemporalPositionIdentifier", "PixelSpacing", "ImagerPixelSpacing", "ImagePositionPatient",
    "ImageOrientationPatient", "SliceThickness", "SpacingBetweenSlices", "RepetitionTime",
    "TriggerTime", "RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth",
    "SliceLocation", "DiffusionBValue", "AcquisitionTime", "ContentTime", "EchoTime",
    "FrameOfReferenceUID", "ConvolutionKernel", "FrameReferenceTime", "AcquisitionDate",
    "ContentDate", "PresentationIntentType",
)  # fmt: skip

_NUMBER = {
    "DS": re.compile(r" *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *"),
    "IS": re.compile(r" *[+-]?\d+ *"),
}
_TEXT = {
    "CS": re.compile(r"[A-Z0-9 _]*"),
    "UI": re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"),
    "TM": re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?"),
    "DA": re.compile(r"\d{8}"),
    "LO": re.compile(r"[ -\[\]-~]*"),  # printable ASCII but the backslash
    "SH": re.compile(r"[ -\[\]-~]*"),
}
_BINARY = {vr: struct.Struct(fmt) for vr, fmt in
           (("US", "<H"), ("UL", "<I"), ("FD", "<d"), ("FL", "<f"))}  # fmt: skip
_MAX_LEN = {"CS": 16, "UI": 64, "TM": 14, "DA": 8, "LO": 64, "SH": 16, "DS": 16, "IS": 12}
_TABLE_CACHE: dict[str, Any] = {}


def tables() -> dict[str, Any]:
    """Keyword <-> tag and the dictionary VR of the held attributes (built once).

    ``held``: tag -> keyword; ``vr``: tag -> VR; ``vr_bytes``: tag -> VR as bytes;
    ``explicit``: ``vr_bytes`` but the grouping UIDs (:data:`GROUPING_UIDS`).
    """
    if not _TABLE_CACHE:
        from pydicom.datadict import dictionary_VR, tag_for_keyword

        held = {int(tag_for_keyword(k) or 0): k for k in HELD}
        vrs = {tag: dictionary_VR(tag) for tag in held}
        vr_bytes = {t: v.encode() for t, v in vrs.items()}
        # what the explicit walk takes at once (a short VR): a grouping UID is checked first
        explicit = {t: v for t, v in vr_bytes.items() if t not in GROUPING_UIDS and v not in _LONG}
        _TABLE_CACHE.update(held=held, vr=vrs, vr_bytes=vr_bytes, explicit=explicit)
    return _TABLE_CACHE


class Short(Exception):
    """The element runs past the bytes read so far."""


class Odd(Exception):
    """Not a plain file: the caller reads it with pydicom."""


_HEAD = struct.Struct("<HHI")
_HEAD_VR = struct.Struct("<HH2sH")  # an explicit VR element's tag, VR and 2-byte length
_LENGTH = struct.Struct("<I")
#: Each VR: whether a 4-byte length follows it (after 2 reserved bytes), PS3.5 7.1.2.
_LONG_VR = {vr: vr in _LONG for vr in _VRS}


def _element(buf: bytes, pos: int, explicit: bool) -> tuple[int, bytes, int, int]:
    """``(tag, vr, length, header size)`` of the element at ``pos`` (VR ``b""`` if implicit)."""
    if pos + 8 > len(buf):
        raise Short
    group, elem, length = _HEAD.unpack_from(buf, pos)
    tag = group << 16 | elem
    if not explicit or group == 0xFFFE:
        return tag, b"", length, 8
    vr = buf[pos + 4 : pos + 6]
    if vr not in _VRS:
        raise Odd
    if vr in _LONG:
        if pos + 12 > len(buf):
            raise Short
        return tag, vr, _LENGTH.unpack_from(buf, pos + 8)[0], 12
    return tag, vr, length >> 16, 8


def skip_sequence(buf: bytes, pos: int, explicit: bool, depth: int = 0) -> int:
    """The position after an undefined-length sequence whose value starts at ``pos``.

    pydicom parses such a sequence as it reads the file, items of defined length included, so
    every item's elements are walked here too: anything it might stumble on is :class:`Odd`.
    """
    if depth > _MAX_DEPTH:
        raise Odd
    while True:
        tag, _, length, size = _element(buf, pos, False)
        pos += size
        if tag == _SEQ_END:
            return pos
        if tag != _ITEM:
            raise Odd
        end = None if length == _UNDEFINED else pos + length
        while end is None or pos < end:  # the item's elements
            tag, vr, length, size = _element(buf, pos, explicit)
            pos += size
            if tag == _ITEM_END and end is None:
                break
            if tag >> 16 == 0xFFFE or tag == _CHARSET:
                raise Odd  # a stray delimiter; a character set pydicom checks as it reads
            if length == _UNDEFINED:
                check_undefined(tag, vr)
                pos = skip_sequence(buf, pos, explicit, depth + 1)
            else:
                pos += length
        if end is not None and pos != end:
            raise Odd


def check_undefined(tag: int, vr: bytes) -> None:
    """An undefined length is read as a sequence by pydicom only for SQ (and unknown tags).

    UN of undefined length holds implicit VR data (PS3.5 6.2.2); a known non-SQ tag of
    undefined length is read up to the next delimiter bytes: both are left to pydicom.
    """
    if vr == b"SQ":
        return
    if vr:
        raise Odd
    from pydicom.datadict import dictionary_VR

    try:
        known = dictionary_VR(tag)
    except KeyError:
        return  # private or unknown: pydicom reads it as a sequence when items follow
    if known != "SQ":
        raise Odd


def file_meta(buf: bytes) -> tuple[dict[int, bytes], int]:
    """The File Meta elements' values by tag, and the position after them.

    A folder's files repeat their File Meta but for the Media Storage SOP Instance UID (and
    the group length): one whose elements before and after that UID are byte for byte those
    of the last file walked in full (:data:`_META_LAST`) takes its values, checked then, and
    only the UID is checked here; any other is walked element by element.
    """
    if buf[128:140] == _META_START and (last := _META_LAST) is not None:
        end = 144 + _LENGTH.unpack_from(buf, 140)[0]
        head, tail, values = last
        uid_at = 144 + len(head)
        # every element ends before the bytes at hand do: no Short in the full walk either
        if (
            uid_at + 8 <= end <= len(buf) - 4
            and buf.startswith(head, 144)
            and buf.startswith(_UID_HEAD, uid_at)
        ):
            stop = uid_at + 8 + _UID_LENGTH.unpack_from(buf, uid_at + 6)[0]
            if stop + len(tail) == end and buf.startswith(tail, stop):
                data = buf[uid_at + 8 : stop]
                if (b"UI", data) not in _META_CLEAN:
                    _check_meta(b"UI", data)
                meta = dict(values)
                meta[0x00020003] = data
                return meta, end
    return _walk_meta(buf)


_META_START = b"DICM\x02\x00\x00\x00UL\x04\x00"  # DICM, then (0002,0000) UL of length 4
_UID_HEAD = b"\x02\x00\x03\x00UI"  # (0002,0003) UI
_UID_LENGTH = struct.Struct("<H")
#: The File Meta walked last in full: its bytes before and after the Media Storage SOP
#: Instance UID element (from (0002,0001) on) and its values.
_META_LAST: tuple[bytes, bytes, dict[int, bytes]] | None = None


def _walk_meta(buf: bytes) -> tuple[dict[int, bytes], int]:
    """:func:`file_meta`, element by element (PS3.10 7.1); kept for the next file."""
    global _META_LAST
    if buf[128:132] != b"DICM":
        raise Odd
    tag, vr, length, hsize = _element(buf, 132, True)
    if tag != 0x00020000 or vr != b"UL" or length != 4:
        raise Odd
    end = 144 + struct.unpack_from("<I", buf, 140)[0]
    meta: dict[int, bytes] = {}
    pos, available, clean = 144, len(buf), _META_CLEAN
    uid: tuple[int, int] | None = None  # where the last (0002,0003) is, when of VR UI
    while pos < end:
        if pos + 12 > available:
            raise Short
        group, elem, vr, length = _HEAD_VR.unpack_from(buf, pos)
        long = _LONG_VR.get(vr)
        hsize = 12 if long else 8
        if long:
            length = _LENGTH.unpack_from(buf, pos + 8)[0]
        if group != 2 or long is None or length == _UNDEFINED or pos + hsize + length > end:
            raise Odd
        meta[group << 16 | elem] = data = buf[pos + hsize : pos + hsize + length]
        # pydicom checks these as it reads: a warning
        if vr in (b"UI", b"SH", b"AE") and (vr, data) not in clean:
            _check_meta(vr, data)
        if elem == 3:
            uid = (pos, pos + hsize + length) if vr == b"UI" else None
        pos += hsize + length
    if pos != end:
        raise Odd
    if uid is not None:
        _META_LAST = (buf[144 : uid[0]], buf[uid[1] : end], meta.copy())
    return meta, pos


#: File Meta values found clean (:func:`_check_meta`): a folder's files repeat all of theirs
#: but the SOP Instance UID. At most 256 kept (then the table starts again).
_META_CLEAN: set[tuple[bytes, bytes]] = set()


def _check_meta(vr: bytes, data: bytes) -> None:
    """Raise :class:`Odd` unless ``value`` takes this File Meta value (UI, SH or AE) cleanly."""
    if vr == b"UI" and (uid := _ONE_UID.fullmatch(data)) and len(uid[1]) <= _MAX_LEN["UI"]:
        return  # as value() takes it: the SOP Instance UID, its own in each file, is one
    if (vr, data) in _META_CLEAN:
        return
    value("UI" if vr == b"UI" else "SH", data or b"0")
    if len(_META_CLEAN) >= 256:
        _META_CLEAN.clear()
    _META_CLEAN.add((vr, data))


def looks_explicit(vr: bytes) -> bool:
    """Whether the first element looks explicit to pydicom: both VR bytes are A-Z."""
    return len(vr) == 2 and vr.isalpha() and vr.isupper()  # ASCII: both of b"A".."Z"


#: One UID, padded or not: what :func:`value` takes for UI in one step (group 1, when at
#: most 64 characters, is its answer); anything else goes through the general checks.
_ONE_UID = re.compile(rb"((?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*)[ \0]*")


def clean_uid(buf: bytes, start: int, end: int) -> bool:
    """Whether ``buf[start:end]`` is one UID of at most 64 characters, padded or not."""
    uid = _ONE_UID.fullmatch(buf, start, end)
    return uid is not None and len(uid[1]) <= _MAX_LEN["UI"]


#: SOPInstanceUID, StudyInstanceUID, SeriesInstanceUID, FrameOfReferenceUID: files are grouped
#: by them, so one that is not one clean UID is pydicom's (:mod:`pipeline.dicom.uid_values`)
GROUPING_UIDS = frozenset({0x00080018, 0x0020000D, 0x0020000E, 0x00200052})


#: One IS number, padded or not: what :func:`value` takes for IS in one step (group 1, when
#: at most 12 characters and a 32-bit integer, is its answer; the general checks say the same).
_ONE_IS = re.compile(rb"( *[+-]?[0-9]+)[ \0]*")


_DS_ITEM = rb" *[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
#: Clean DS numbers, one or several, padded or not: what :func:`value` takes for DS in one
#: step (group 1, split at backslashes, when each is at most 16 characters: the general
#: checks say the same). An ImagePositionPatient, its own in each file, is one.
_SOME_DS = re.compile(rb"(%s(?:\\%s)*)[ \0]*" % (_DS_ITEM, _DS_ITEM))


def value(vr: str, data: bytes) -> Any:
    """A clean value as pydicom would give it (numbers as int/float), or ``Odd``."""
    if vr == "DS" and (some := _SOME_DS.fullmatch(data)):
        items = some[1].split(b"\\")
        if max(map(len, items)) <= _MAX_LEN["DS"]:
            numbers = [float(i) for i in items]
            return numbers[0] if len(numbers) == 1 else numbers
    if vr == "UI" and (uid := _ONE_UID.fullmatch(data)) and len(uid[1]) <= _MAX_LEN["UI"]:
        return uid[1].decode("ascii")
    if vr == "IS" and (one := _ONE_IS.fullmatch(data)) and len(one[1]) <= _MAX_LEN["IS"]:
        number = int(one[1])
        if -(2**31) <= number < 2**31:
            return number
    binary = _BINARY.get(vr)
    if binary is not None:
        if len(data) != binary.size:
            raise Odd
        return binary.unpack(data)[0]
    try:
        text = data.decode("ascii").rstrip(" \0")
    except UnicodeDecodeError:
        raise Odd from None
    items = text.split("\\")
    if not text or any(not i or i != i.rstrip(" ") or len(i) > _MAX_LEN.get(vr, 0)
                       for i in items):  # fmt: skip
        raise Odd
    if vr in _NUMBER:
        if not all(_NUMBER[vr].fullmatch(i) for i in items):
            raise Odd
        numbers = [float(i) if vr == "DS" else int(i) for i in items]
        if vr == "IS" and not all(-(2**31) <= n < 2**31 for n in numbers):
            raise Odd
        return numbers[0] if len(numbers) == 1 else numbers
    if vr not in _TEXT or not all(_TEXT[vr].fullmatch(i) for i in items):
        raise Odd
    return items[0] if len(items) == 1 else items


_CHARSETS: dict[bytes, bool] = {}


def known_charset(raw: bytes) -> bool:
    """Whether pydicom takes this SpecificCharacterSet value without a word (cached).

    pydicom itself reads it (an unknown or misspelt term, a second value that cannot be a code
    extension: a warning), so the plain reading never answers where pydicom would have warned.
    Every Python codec pydicom names decodes printable ASCII as ASCII, so for the values taken
    here (:func:`pipeline.dicom.elements.value`) the character set changes nothing else.
    """
    known = _CHARSETS.get(raw)
    if known is None:
        from pydicom.dataelem import RawDataElement
        from pydicom.dataset import Dataset
        from pydicom.tag import Tag

        ds = Dataset()
        ds[0x00080005] = RawDataElement(Tag(0x00080005), "CS", len(raw), raw, 0, False, True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ds._character_set  # noqa: B018 (pydicom converts the value here)
                known = not caught
            except Exception:
                known = False
        if len(_CHARSETS) < 256:
            _CHARSETS[raw] = known
    return known


__all__ = [
    "GROUPING_UIDS", "HELD", "LONG_VRS", "VRS", "Odd", "Short", "check_undefined", "clean_uid",
    "file_meta", "known_charset", "looks_explicit", "skip_sequence", "tables", "value",
]  # fmt: skip
