"""Why a file could not be read, in words about the file, not Python's exception classes.

pydicom and zlib fail on damaged files with exceptions whose class names (``NotImplementedError``,
``error``, ``BytesLengthException``, ``MemoryError``) say nothing to a user; ``errors.csv`` and
``inspect`` used to print them first. :func:`read_failure` says what kind of damage each means
and keeps the reader's own words after it.
"""

from __future__ import annotations

import re
import struct
import zlib


def read_failure(err: BaseException, text: str) -> str:
    """What an exception raised while reading a header says about the file.

    ``text`` is the exception's message as it may be shown (values replaced by hashed keys:
    :func:`pipeline.dicom.files.sanitize`).

    Examples
    --------
    >>> read_failure(zlib.error(), "Error -3 while decompressing data: invalid block type")
    'the deflated data set cannot be inflated (zlib: Error -3 while decompressing data: invalid block type): corrupt or truncated'
    >>> read_failure(struct.error(), "unpack requires a buffer of 4 bytes")
    'an element ends before its 4 bytes: truncated or damaged file'
    """  # noqa: E501
    name = type(err).__name__
    if isinstance(err, zlib.error):
        return f"the deflated data set cannot be inflated (zlib: {text}): corrupt or truncated"
    if isinstance(err, struct.error):
        size = text.rsplit("of ", 1)[-1].split()[0] if "buffer of" in text else "next"
        return f"an element ends before its {size} bytes: truncated or damaged file"
    if isinstance(err, MemoryError):
        return "a length or count in the header asks for more memory than there is (damaged?)"
    if name == "InvalidDicomError":
        return "not a DICOM file: no File Meta Information, or its 'DICM' prefix is damaged"
    if name == "BytesLengthException":
        return f"an element's length does not fit its Value Representation: {_first(text)}"
    if "Unknown Value Representation" in text:  # its VR bytes unhashed: no patient data
        from pipeline.dicom.damaged_vr import unknown_vr

        return unknown_vr(str(err)) or f"damaged header: {text} (not a DICOM VR)"
    if isinstance(err, ValueError) and "null character" in text and _raised_in(err, "charset"):
        return ("SpecificCharacterSet (0008,0005) holds a NUL byte inside its value (not only as "
                "trailing padding): no character set can be looked up for the text values; "
                "damaged header")  # fmt: skip
    return text or "the reader gave no reason"


def _raised_in(err: BaseException, module: str) -> bool:
    """Whether ``err`` was raised inside pydicom's ``module`` (``pydicom/<module>.py``)."""
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith(f"pydicom/{module}.py"):
            return True
        tb = tb.tb_next
    return False


def unexpected_failure(err: BaseException, text: str) -> str:
    """Why a file failed where no check of radpipe's foresaw it, in words.

    Never Python's class name (a batch worker's fallback said ``TypeError: unhashable type:
    'list'``). Known damage is said as :func:`read_failure` says it; a file system error by its own
    words; a panic of compiled code (a ``BaseException`` that is no ``Exception``) as a crash;
    anything else as a value of the file that radpipe could not use, with what the reader
    said.

    Examples
    --------
    >>> unexpected_failure(TypeError(), "unhashable type: 'list'")
    "a header value radpipe could not use (unhashable type: 'list'): a damaged or unusual file"
    >>> unexpected_failure(PermissionError(13, "Permission denied"), "[Errno 13] Permission denied")
    'the file system refused: Permission denied'
    >>> unexpected_failure(BaseException(), "index out of bounds")
    'a library crashed reading it (index out of bounds): a damaged file?'
    """
    if isinstance(err, OSError) and not isinstance(err, struct.error | zlib.error):
        return f"the file system refused: {err.strerror or text or 'no reason given'}"
    if isinstance(err, MemoryError):  # while converting, not only a forged header count
        return (
            f"out of memory while converting it ({text or 'no reason given'}): too little "
            "memory for the image, or a header that asks for too much (try fewer --workers)"
        )
    if not isinstance(err, Exception):  # a compiled library's panic (pyo3): a crash on it
        return f"a library crashed reading it ({text or 'no reason given'}): a damaged file?"
    said = read_failure(err, text)
    if said != (text or "the reader gave no reason"):
        return said
    return f"a header value radpipe could not use ({said}): a damaged or unusual file"


def _first(text: str) -> str:
    """The first sentence of a long message."""
    return text.split(". ", 1)[0].rstrip(".")


_DECODE_FAILED = re.compile(
    r"Failed to decode byte string with encodings?:? '?([^'\-]*?)'? - using replacement "
    r"characters in decoded string"
)
_UNKNOWN = re.compile(r"Unknown encoding '([^']*)' - using default encoding instead")
_PATCHED = re.compile(r"Incorrect value for Specific Character Set '([^']*)' - assuming '([^']*)'")
_TERM = re.compile(r"[A-Za-z0-9 _-]{1,24}")


_PLUGIN_CHANGED = re.compile(
    r"The decoding plugin has changed from '(\w+)' to '(\w+)' during the decoding process.*"
)


#: pydicom's ``Expected explicit VR, but found implicit VR - using implicit VR for reading``.
_VR_FOUND = re.compile(r"Expected (explicit|implicit) VR, but found (explicit|implicit) VR - "
                       r"using \2 VR for reading")  # fmt: skip


def warning_said(message: str) -> str:
    """A warning pydicom raised, in words about the file, before values are hashed.

    :func:`charset_warning`'s character sets, a change of decoder plugin between frames
    (pydicom names the plugins in quotes, which would be hashed like values), and a data set
    encoded with another VR than its transfer syntax says (pydicom's own words were noted).

    Examples
    --------
    >>> warning_said("The decoding plugin has changed from 'pylibjpeg' to 'pydicom' during "
    ...              "the decoding process - you may get inconsistent inter-frame results")
    'frames decoded by more than one plugin (pylibjpeg, then pydicom: one failed on some frames): decoders may differ in rounding, so frames may be inconsistent'
    """  # noqa: E501
    vr = _VR_FOUND.fullmatch(message.strip())
    if vr:  # the note's key is what was found: a manifest's summary counts notes by it
        said, got = vr.groups()
        return (f"{got} VR: the data set is encoded with {got} VR though its transfer syntax "
                f"says {said} VR (read as {got} VR, as pydicom reads it)")  # fmt: skip
    found = _PLUGIN_CHANGED.fullmatch(message.strip())
    if found and all(_TERM.fullmatch(name) for name in found.groups()):
        first, then = found.groups()
        return (f"frames decoded by more than one plugin ({first}, then {then}: one failed on "
                "some frames): decoders may differ in rounding, so frames may be "
                "inconsistent")  # fmt: skip
    return charset_warning(message)


def charset_warning(message: str) -> str:
    """Say pydicom's character set warnings in words about SpecificCharacterSet (0008,0005).

    pydicom names the Python codec and the value in quotes, which
    :func:`pipeline.dicom.files.sanitize` hashes like any value: ``Failed to decode byte
    string with encoding '#68f77470'``, where the user needs the character set. A term is
    shown unquoted when it is a short plain word (a character set name is no patient data);
    other messages are returned unchanged.

    Examples
    --------
    >>> charset_warning("Unknown encoding 'ISO_IR 999' - using default encoding instead")
    'SpecificCharacterSet (0008,0005) ISO_IR 999 is no character set DICOM defines: text values read as Latin-1 (ISO_IR 100), as pydicom does'
    """  # noqa: E501
    found = _DECODE_FAILED.fullmatch(message.strip())
    if found:
        codecs = [_term(c) for c in found.group(1).replace("'", "").split(",")]
        return (f"a text value is not valid in its character set ({', '.join(codecs)}, as "
                "SpecificCharacterSet (0008,0005) says): read with replacement characters "
                "(U+FFFD) where its bytes do not decode")  # fmt: skip
    found = _UNKNOWN.fullmatch(message.strip())
    if found:
        return (f"SpecificCharacterSet (0008,0005) {_shown(found.group(1))} is no character "
                "set DICOM defines: text values read as Latin-1 (ISO_IR 100), as pydicom "
                "does")  # fmt: skip
    found = _PATCHED.fullmatch(message.strip())
    if found:
        return (f"SpecificCharacterSet (0008,0005) {_shown(found.group(1))} is misspelt: read "
                f"as {_shown(found.group(2))}")  # fmt: skip
    return message


def _term(codec: str) -> str:
    """The DICOM term of a Python codec pydicom names (``UTF8``: ``ISO_IR 192``)."""
    from pydicom.charset import python_encoding

    codec = codec.strip()
    terms = [t for t, c in python_encoding.items() if c == codec and t]
    return terms[0] if terms else _shown(codec)


def _shown(term: str) -> str:
    """A character set term as it may be shown: plain short words only, else 'a value'."""
    term = term.strip()
    return term if _TERM.fullmatch(term) else "a value not shown"
