"""A fast reader for plain files: native little-endian syntax, clean values.

Most files in a CT or MR archive are *plain*: Part 10 files (preamble, ``DICM``, File Meta
Information) in Implicit or Explicit VR Little Endian, whose header values are clean ASCII.
For those, :func:`read_plain` walks the elements itself (PS3.5 7.1) in one bounded read (the
pixel data, inside :func:`pipeline.dicom.reuse.reusing`, in a second one into a reused buffer) and
converts the few dozen values radpipe's index and reader use, about ten times faster than
``pydicom.dcmread`` followed by attribute access. The result, a :class:`PlainDataset`, answers
``get`` / ``in`` / attribute access like a :class:`pydicom.Dataset`; an element it did not
convert itself (a sequence, a private tag, a value that is not clean) is read by pydicom on
first use, so the answers are pydicom's.

Anything unusual returns ``None`` and the caller reads the file with pydicom: another
transfer syntax, no preamble or File Meta, a File Meta group length that does not match,
elements out of order, a VR that is not one of PS3.5's, a first element whose VR bytes pydicom
would take for the other encoding, undefined-length elements other than sequences, an item of
unknown length holding Unknown (UN) data, a sequence item pydicom would stumble on as it
parses it (an element running past its item, a character set inside, nesting past 32 levels),
a pixel data element that does not end the file or is not OB/OW, a SpecificCharacterSet
pydicom warns about. :func:`try_plain` runs a caller's work on
the plain reading and redoes it with pydicom whenever the result is not perfectly clean (an
error, a note, a warning), so every message and note is pydicom's and the plain reading only
ever answers for files where both agree (``tests/pipeline/dicom/test_plain.py`` checks this on
pydicom's test files and generated variants).
"""

from __future__ import annotations

import hashlib
import os
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pipeline.dicom import elements, plain_memo, reuse, top_level
from pipeline.dicom.elements import HELD, Odd, Short
from pipeline.dicom.plain_meta import FileMeta, FullRead, uid

T = TypeVar("T")

#: Switch for tests and for comparison runs: ``False`` reads every file with pydicom.
ENABLED = True

#: Attributes that may hold several values (others with several are left to pydicom).
_MULTI = {"ImageType", "PixelSpacing", "ImagerPixelSpacing", "ImagePositionPatient",
          "ImageOrientationPatient", "WindowCenter", "WindowWidth",
          "ConvolutionKernel"}  # fmt: skip
_MISSING = object()
#: What :meth:`PlainDataset.memo_states` records: held tags, their value bytes, the tags
#: present but not held, the tags absent, the pixel element's tag, length and whether its
#: value was read (``None`` when it was not looked at).
MemoStates = tuple[
    tuple[int, ...], tuple[Any, ...], frozenset[int], frozenset[int], tuple[int, int, bool] | None
]
_ABSENT = object()
_KEYWORD_TAGS: dict[str | int, object] = {}
#: Values converted, by their (VR, bytes): the files of a series repeat most of theirs (UIDs
#: of the study and series, sizes, spacing, orientation, rescale), so those are converted
#: once per series, also when the files of several series come in turn. Values of at most
#: 256 bytes, at most 4,096 of them (then the table starts again), so the memory is bounded;
#: the values each file has its own of (:data:`_PER_FILE`) are converted every time.
_VALUES: dict[tuple[str, bytes], Any] = {}
_PER_FILE = {"SOPInstanceUID", "InstanceNumber", "ImagePositionPatient", "SliceLocation",
             "AcquisitionTime", "ContentTime", "TriggerTime", "FrameReferenceTime"}  # fmt: skip


#: The key :meth:`PlainDataset.memo_reads` records for the pixel element's length.
PIXEL_ELEMENT = "radpipe:pixel-element"


class _PixelElement:
    """What :func:`pipeline.dicom.files.pixel_length` reads of a deferred pixel element.

    Its length is recorded as :data:`PIXEL_ELEMENT` (a check that reads only the length may
    be kept); its value's bytes and its position in the file count as other reads. Its value,
    held or not, is exactly ``length`` bytes (the walk takes only a pixel element that ends the
    file, the reading only a file of the size it walked), so ``exact_length`` tells
    ``pixel_length`` to take the length without reading the value: a reading that holds the
    pixels (convert's) keeps its header checks for the next file of the series as a
    header-only reading (inspect's) does.
    """

    exact_length = True

    def __init__(self, owner: PlainDataset) -> None:
        self.length, self._owner = owner._pixel_length, owner

    @property
    def value(self) -> Any:
        if self._owner._pixels is not None:
            self._owner._untracked += 1
        return self._owner._pixels

    @property
    def value_tell(self) -> int:
        self._owner._untracked += 1
        return self._owner._pixel_tell


class PlainDataset:
    """A plain file's header as :func:`read_plain` found it; answers like a pydicom Dataset.

    ``get(keyword)``, ``keyword in ds`` and ``ds.Keyword`` give the values of :data:`HELD`
    attributes (int, float, str, UID, or a list for the multi-valued ones); anything else
    present in the file is read with pydicom on first use (:meth:`full`), so the answer is
    always pydicom's. ``header_digest`` is a digest of every byte before the pixel data's
    value (the whole header, the pixel data's length with it): a later reading with the same
    digest has the same header, so what was found from it holds.
    """

    def __init__(
        self,
        path: str | Path,
        size: int,
        found: dict[str, Any],
        pixels: memoryview | None,
        header_digest: str = "",
    ) -> None:
        self._path = path
        self.file_size = size
        self.header_digest = header_digest
        self._raw: dict[int, bytes] = found["raw"]  # the held elements' value bytes
        self._tags: set[int] = found["tags"]
        self._known: dict[str | int, Any] = {}
        self._pixel_tag, self._pixel_tell, self._pixel_length = found["pixels"]
        self._pixels = pixels
        self._full = FullRead(path, 4096 if pixels is None else None)
        self._read: plain_memo.Reads | None = None  # what a memoized check asks for
        self._untracked = 0  # answers given other than by get / in / attribute access
        meta = {"TransferSyntaxUID": uid(found["syntax"])}
        sop = found["meta"].get(0x00020002, b"").rstrip(b"\0 ").decode("ascii", "replace")
        if sop:
            meta["MediaStorageSOPClassUID"] = uid(sop)
        self.file_meta = FileMeta(meta, self._full)
        # kept results are looked up by transfer syntax, SOP class and series (the files of
        # several series may come interleaved), then checked element by element
        self.memo_meta = (found["syntax"], sop, self._raw.get(0x0020000E))

    def full(self) -> Any:
        """The pydicom Dataset of the file (read once, on first need)."""
        return self._full()

    @contextmanager
    def memo_reads(self) -> Iterator[plain_memo.Reads]:
        """Record the keys asked for inside (:func:`pipeline.dicom.plain_memo.memoized`)."""
        outer, read = self._read, plain_memo.Reads()
        self._read, before = read, self._untracked + self._full.calls
        try:
            yield read
        finally:
            self._read = outer
            read.complete = read.complete and self._untracked + self._full.calls == before
            if outer is not None:
                outer.keys |= read.keys
                outer.complete = outer.complete and read.complete

    def memo_states(self, keys: set[str | int]) -> MemoStates:
        """The state of the keys' elements (:meth:`memo_same` compares them).

        The held ones' (VR, value bytes), which others are present, which absent.
        """
        tags = {tag for key in keys if key != PIXEL_ELEMENT and (tag := self._tag(key)) is not None}
        held = tuple(sorted(tags & self._raw.keys()))
        present = frozenset(tags & self._tags) - frozenset(held)
        pixel = self._pixel_state() if PIXEL_ELEMENT in keys else None
        held_values = tuple(map(self._raw.__getitem__, held))
        return held, held_values, present, frozenset(tags - self._tags), pixel

    def memo_same(self, states: MemoStates) -> bool:
        """Whether every element in ``states`` is here in the same state."""
        held, values, present, absent, pixel = states
        return (
            tuple(map(self._raw.get, held)) == values
            and present <= self._tags
            and self._tags.isdisjoint(absent)
            and (pixel is None or pixel == self._pixel_state())
        )

    def memo_note(self, states: MemoStates) -> None:
        """A kept result was used: its elements count as read by an outer check."""
        if self._read is not None:
            self._read.keys.update(states[0], states[2], states[3])
            if states[4] is not None:
                self._read.keys.add(PIXEL_ELEMENT)

    def _pixel_state(self) -> tuple[int, int, bool]:
        """The pixel element as a check reading its length sees it."""
        return self._pixel_tag, self._pixel_length, self._pixels is None

    def _tag(self, key: str | int) -> int | None:
        tag = _KEYWORD_TAGS.get(key, _MISSING)  # keywords first: nearly every key is one
        if tag is _MISSING:
            if isinstance(key, int):
                return key
            from pydicom.datadict import tag_for_keyword

            tag = _KEYWORD_TAGS[key] = tag_for_keyword(key)
        return tag  # type: ignore[return-value]

    def get(self, key: str | int, default: Any = None) -> Any:
        """The value of ``key`` (keyword), like ``pydicom.Dataset.get``."""
        if self._read is not None:
            self._read.keys.add(key)
        value = self._known.get(key, _MISSING)
        if value is _MISSING:
            value = self._look_up(key)
        return default if value is _ABSENT else value

    def _look_up(self, key: str | int) -> Any:
        tag = self._tag(key)
        if tag is None or tag not in self._tags:
            value = _ABSENT
        elif isinstance(key, str) and tag in self._raw:
            value = self._convert(tag, key)
            if value is _MISSING:
                return self.full().get(key)
        elif tag == self._pixel_tag and isinstance(key, str):
            self._untracked += 1
            return self.pixel_bytes()
        else:
            return self.full().get(key)
        self._known[key] = value
        return value

    def _convert(self, tag: int, keyword: str) -> Any:
        key = (elements.tables()["vr"][tag], self._raw[tag])  # the dictionary's VR
        found = _VALUES.get(key, _MISSING)
        if found is _MISSING:
            try:
                found = elements.value(*key)
            except Odd:
                found = _ODD
            if len(key[1]) <= 256 and keyword not in _PER_FILE:
                if len(_VALUES) >= 4096:
                    _VALUES.clear()
                _VALUES[key] = found
        if found is _ODD:
            return _MISSING
        if isinstance(found, list):
            return list(found) if keyword in _MULTI else _MISSING  # a copy: callers own it
        if keyword == "SOPClassUID":
            found = uid(found)  # its .name tells image storage classes apart
        return found

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str | int):
            return False
        if self._read is not None:
            self._read.keys.add(key)
        tag = self._tag(key)
        return tag is not None and tag in self._tags

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("_", "radpipe_")) or name == "file_meta":
            raise AttributeError(name)
        if self._tag(name) is not None:
            value = self.get(name, _MISSING)
            if value is _MISSING:
                raise AttributeError(name)
            return value
        return getattr(self.full(), name)

    def get_item(self, key: str | int, *, keep_deferred: bool = False) -> Any:
        """The pixel element's length and offset (value ``None`` unless read); else pydicom's."""
        if self._tag(key) == self._pixel_tag:
            if self._read is not None:
                self._read.keys.add(PIXEL_ELEMENT)
            return _PixelElement(self)
        self._untracked += 1
        return self.full().get_item(key, keep_deferred=keep_deferred)

    def pixel_bytes(self) -> memoryview | bytes:
        """The pixel data element's value (read from the file when not read yet)."""
        self._untracked += 1
        if self._pixels is None:
            with open(self._path, "rb") as fh:
                fh.seek(self._pixel_tell)
                return fh.read(self._pixel_length)
        return self._pixels

    def __getitem__(self, key: str | int) -> Any:
        self._untracked += 1
        if self._tag(key) == self._pixel_tag:
            return self.get_item(key)
        return self.full()[key]

    def keys(self) -> Any:
        """The tags of the data set (read with pydicom)."""
        self._untracked += 1
        return self.full().keys()

    def __len__(self) -> int:
        self._untracked += 1
        return len(self._tags)


_ODD = object()


def read_plain(path: str | Path, *, pixels: bool = False) -> PlainDataset | None:
    """The file as a :class:`PlainDataset`, or ``None`` when it is not plain (see the module).

    With ``pixels`` the pixel data is kept (a view of the bytes, no copy): the whole file is
    read at once, or, inside :func:`pipeline.dicom.reuse.reusing`, the header and then the
    pixel data into a reused buffer (read-only to its users); otherwise only the header is
    read (16 KiB first, more when needed, up to 4 MiB).
    """
    if not ENABLED:
        return None
    split = pixels and reuse.POOL.active
    view = None
    try:
        fd = os.open(path, os.O_RDONLY)  # unbuffered: a file object costs ~10 us more
        try:
            size = os.fstat(fd).st_size

            def read(n: int) -> bytes:  # none past the size (one more call to learn it ends)
                return _read(fd, size + 1 if n < 0 else min(n, size))

            buf, found = _walk(read, size, whole=pixels and not split)
            view = reuse.read_tail(fd, buf, *found["pixels"][1:]) if split else None
        finally:
            os.close(fd)
    except (OSError, Odd, Short, struct.error, RecursionError, ValueError):
        return None
    if 0x00080005 in found["tags"] and not elements.known_charset(found["charset"]):
        return None
    _, start, length = found["pixels"]
    if pixels and not split:
        if len(buf) != size:
            return None  # the file changed since its size was taken
        view = memoryview(buf)[start : start + length]
    if pixels and view is None:
        return None
    digest = hashlib.blake2b(memoryview(buf)[:start], digest_size=16).hexdigest()
    return PlainDataset(path, size, found, view, digest)


def _walk(read: Callable[[int], bytes], size: int, *, whole: bool = False) -> tuple[bytes, Any]:
    """The bytes read and :func:`pipeline.dicom.top_level.walk`'s result.

    ``read(n)``: up to ``n`` more bytes of the file, fewer only at its end; the whole file
    at once when ``whole``, else 16 KiB first, then as much again while the header runs on,
    up to 4 MiB. Raises :class:`Short` when the file (or the header allowed) ends first.
    """
    buf = read(-1 if whole else elements.FIRST_READ)
    while True:
        try:
            return buf, top_level.walk(buf, size)
        except Short:
            more = read(len(buf)) if len(buf) < elements.MAX_HEADER else b""
            if not more:  # the end of the file (or of the header allowed)
                raise
            buf += more


def _read(fd: int, n: int) -> bytes:
    """Up to ``n`` bytes from ``fd``, fewer only at the end of the file, as ``io`` reads.

    ``os.read`` may return fewer before the end; the walk would take the first bytes of a
    header cut short for a file that is not DICOM.
    """
    data = os.read(fd, n)
    while 0 < len(data) < n:
        more = os.read(fd, n - len(data))
        if not more:
            break
        data += more
    return data


def try_plain(
    path: str | Path, work: Callable[[Any], T], clean: Callable[[T], bool], *, pixels: bool = False
) -> T | None:
    """``work(ds)`` on the plain reading of ``path`` when it is clean, else ``None``.

    ``None`` (the caller then reads the file with pydicom and does the work again) when the
    file is not plain, when ``work`` raises, warns, or returns a result ``clean`` rejects (an
    error, a note): every message the user sees comes from the pydicom reading.
    """
    ds = read_plain(path, pixels=pixels)
    if ds is None:
        return None
    with warnings.catch_warnings(record=True) as caught, plain_memo.session() as staged:
        warnings.simplefilter("always")
        try:
            result = work(ds)
        except Exception:
            return None
    if caught or not clean(result):
        return None
    plain_memo.commit(staged)  # checks of a clean reading are kept for the next file
    return result


__all__ = ["ENABLED", "HELD", "PlainDataset", "read_plain", "try_plain"]
