"""Pixel data through pydicom's decoder plugins, with the header values radpipe read.

The plugins (pylibjpeg's RLE and OpenJPEG, pyjpegls, libjpeg) are compiled code: a corrupt
stream can make one *panic* (Rust), which prints ``thread '<unnamed>' panicked at
src/lib.rs:...`` and perhaps a backtrace on the process's standard error before pyo3 raises
``PanicException``. That text would land on the user's terminal in the middle of a progress
bar, with no file named; here standard error (file descriptor 2) is held in a temporary file
while a plugin decodes, and the failure becomes one :class:`~pipeline.errors.DicomError`
naming the transfer syntax and what the plugin said.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import pixel_array
from pydicom.tag import Tag

from pipeline.dicom.files import FATAL, captured_warnings, without_addresses
from pipeline.errors import DicomError


@contextmanager
def quiet_stderr() -> Iterator[list[str]]:
    """Hold what compiled code writes to file descriptor 2 inside the block.

    The list is filled on exit with the lines written (a panic's ``panicked at ...`` line and
    message), nothing of it reaching the terminal. Python's own ``sys.stderr`` is flushed first
    so that nothing written before the block is lost.
    """
    lines: list[str] = []
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to hold (closed): nothing can reach a terminal
        yield lines
        return
    try:
        with tempfile.TemporaryFile() as held:
            os.dup2(held.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                held.seek(0)
                text = held.read(4096).decode("utf-8", "replace")
                lines += [line for line in text.splitlines() if line.strip()]
    finally:
        os.close(saved)


def decode_with_pydicom(
    ds: Dataset, source: str, notes: list[str], header: dict[str, Any]
) -> np.ndarray:
    """``ds.pixel_array`` with ``header`` (pydicom option names) in place of the elements.

    ``header`` holds the Image Pixel values as radpipe's tolerant readers took them
    (``rows``, ``bits_stored``, ``pixel_representation``, ...: e.g. a BitsStored absent, so
    BitsAllocated, or an empty NumberOfFrames, so 1), so the plugins decode what the header
    checks accepted instead of failing on pydicom's own stricter reading of the elements
    (``int('')``). pydicom is given a view of the data set without those elements; the data
    set itself is not changed.

    Raises
    ------
    DicomError
        ``cannot decode transfer syntax ...`` (no plugin for it, or none installed), or
        ``<syntax> pixel data could not be decoded: ...`` with what the plugins said (every
        installed one failed on the stream: corrupt, truncated, or a kind none reads); a
        plugin's panic is named as a crash of that plugin on malformed data.
    """
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    name = getattr(syntax, "name", "") or str(syntax)
    try:
        with captured_warnings() as caught, quiet_stderr() as printed:
            view = _one_bit_words_in_order(_without_image_pixel(ds), header)
            arr = np.asarray(pixel_array(view, **header))
    except (NotImplementedError, RuntimeError, ImportError) as err:
        said = _one_line(without_addresses(str(err)))
        raise DicomError(source, _undecodable(name, said)) from err
    except FATAL:
        raise
    except BaseException as err:  # corrupt streams raise many types, panics included
        raise DicomError(source, f"{name} pixel data could not be decoded: {_why(err)}") from None
    notes += [f"decoder: {text}" for text in caught if not _EXCESS.search(text)]
    del printed  # a plugin's chatter on success says nothing about the file
    return arr


#: pydicom's words on native data past the header's frames: check_pixel_size notes the excess
#: bytes itself (``... more than the header needs: the extra bytes are ignored``).
_EXCESS = re.compile(r"bytes of excess padding to be removed|frames which is larger than the given")

#: The Image Pixel elements whose values :func:`decode_with_pydicom` passes as options.
_GIVEN = frozenset(Tag(t) for t in (0x00280002, 0x00280004, 0x00280008, 0x00280010, 0x00280011,
                                    0x00280100, 0x00280101, 0x00280103))  # fmt: skip


def _without_image_pixel(ds: Dataset) -> Dataset:
    """A view of ``ds`` (the same element objects) without the elements in ``_GIVEN``."""
    view = Dataset({tag: elem for tag, elem in ds._dict.items() if tag not in _GIVEN})
    view.file_meta = ds.file_meta
    implicit, little = ds.original_encoding
    view.set_original_encoding(implicit, little, ds.original_character_set)
    return view


def _one_bit_words_in_order(view: Dataset, header: dict[str, Any]) -> Dataset:
    """1-bit pixel data as OW under Explicit VR Big Endian: its 16-bit words byte-swapped.

    OW holds 16-bit words, in a big-endian file each stored high byte first (PS3.5 7.3;
    dcm4che's ``swappxdata`` and dcmtk swap every uncompressed OW pixel data so, whatever
    BitsAllocated). Packed bits fill each word from its least significant bit (PS3.5 D.1):
    pixel 0 is in the word's low byte, stored second. pydicom swaps 8-bit OW data but reads
    1-bit OW bytes as they lie, so pixels 8-15 of each word came out as pixels 0-7 (rows of
    a 2 x 8 image traded places), unsaid. OB, as most writers use for 1-bit data, is bytes.
    """
    elem = view.get(0x7FE00010)
    big = getattr(view.file_meta, "TransferSyntaxUID", None) == "1.2.840.10008.1.2.2"
    if not big or header.get("bits_allocated") != 1 or elem is None or elem.VR != "OW":
        return view
    raw = bytes(elem.value)
    swapped = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<u2").byteswap().tobytes()
    view.add_new(0x7FE00010, "OB", swapped + raw[len(raw) // 2 * 2 :])
    return view


def _one_line(text: str) -> str:
    """The list pydicom makes of what each plugin said, one line each, as one ``; ``-joined line.

    ``errors.csv`` holds one reason per row and the summary one per file: a reason across
    lines broke both (``Unable to decode as exceptions were raised by all available
    plugins:`` and a line per plugin).
    """
    head, *rest = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    return " ".join([head, "; ".join(rest)]) if rest else head


#: pydicom's words when every plugin raised on the stream (pixels/decoders/base.py).
_ALL_FAILED = "Unable to decode as exceptions were raised by all available plugins:"
#: ... when no plugin is installed (pixels/common.py): the words before the list of them.
_NONE_INSTALLED = "pixel data because all plugins are missing dependencies:"


def _undecodable(name: str, said: str) -> str:
    """What pydicom's failure to decode means, in words.

    Every installed plugin failed on the stream (it was said as 'cannot decode transfer
    syntax ...: Unable to decode as exceptions were raised by all available plugins', as if
    none could read the syntax), or no plugin for the syntax is installed, or pydicom has
    none for it.
    """
    if said.startswith(_ALL_FAILED):
        return (
            f"{name} pixel data could not be decoded: every installed decoder failed on its "
            "stream (corrupt or truncated, or a kind none of them reads): "
            + said.removeprefix(_ALL_FAILED).strip()
        )
    if _NONE_INSTALLED in said:
        needs = said.partition(_NONE_INSTALLED)[2].strip()
        return f"cannot decode transfer syntax {name}: no decoder for it is installed ({needs})"
    return f"cannot decode transfer syntax {name}: {said}"


def _why(err: BaseException) -> str:
    """What a plugin's exception says, in words, without Python's class name.

    A pyo3 ``PanicException`` (a Rust plugin's crash, such as an index out of bounds) is
    named as what it is; the message itself comes after.
    """
    text = _one_line(without_addresses(str(err))) or "the decoder gave no reason"
    if type(err).__name__ == "PanicException":
        return f"the decoder plugin crashed on malformed data ({text})"
    return text
