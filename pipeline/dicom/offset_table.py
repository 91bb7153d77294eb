"""Frames read past a Basic Offset Table that does not fit its fragments (PS3.5 A.4).

Real archives carry wrong tables: dicom-rs wrote one offset too many, its last pointing past
the data (Enet4/dicom-rs #399), cornerstone's dicomParser reads past tables "not correct"
(cornerstonejs/dicomParser #269). Until 2026-12-03 every such file was
refused (:func:`~pipeline.dicom.fragments.offset_table_problem`), though many can still be
read one way only, as pydicom's frame generators do without a table: as many fragments as
frames is one frame per fragment (a frame takes at least one), and JPEG-family frames each
begin with a fragment that starts a codestream (SOI, or SOC + SIZ). There the table is
ignored, the frames are taken from the fragments and a note says so; elsewhere the file is
still refused.
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom.dataset import Dataset

from pipeline.dicom.codestream import is_jpeg_family
from pipeline.dicom.fragments import offset_table_problem, starts_stream, table_and_items
from pipeline.dicom.syntaxes import GE_PRIVATE, ITEM, NATIVE_LITTLE_ENDIAN

__all__ = ["frames_past_table", "mend_offset_table", "table_note"]

_NATIVE = NATIVE_LITTLE_ENDIAN | {"1.2.840.10008.1.2.2", GE_PRIVATE}  # as decode reads them


def frames_past_table(ds: Any, frames: int) -> tuple[list[int], str] | None:
    """Where each of ``frames`` frames starts, told from the fragments alone, and how.

    The offsets are from the first fragment's item, as a table's are. ``None`` when the
    fragments do not tell ``frames`` frames apart one way only (or there is no table).
    """
    found = table_and_items(ds)
    if found is None:
        return None
    items = found[1]
    if len(items) == frames:
        return items, "one per fragment"
    syntax = str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
    found = table_and_items(ds, heads=True) if is_jpeg_family(syntax) else None
    if found is None:
        return None
    starts = [at for at, head in zip(items, found[2], strict=True) if starts_stream(head)]
    if starts[:1] == items[:1] and len(starts) == frames:
        return starts, f"at the {frames} of its {len(items)} fragments that start a codestream"
    return None


def _past_table(ds: Any, frames: int) -> tuple[str, tuple[list[int], str] | None] | None:
    """What is wrong with ``ds``'s Basic Offset Table, and the frames past it.

    The frames are ``None`` where the fragments do not give them; the whole is ``None`` when
    the table fits (or there is none).
    """
    misfit = offset_table_problem(ds, frames)
    return None if misfit is None else (misfit, frames_past_table(ds, frames))


def table_note(ds: Any, frames: int) -> tuple[str, bool] | None:
    """What is wrong with ``ds``'s Basic Offset Table and whether the frames are read anyway.

    ``None`` when the table fits (or there is none). Else ``(said, True)``, ``said`` the note
    for a table the fragments overrule, or ``(said, False)``, ``said`` why the file is refused.
    """
    told = _past_table(ds, frames)
    if told is None:
        return None
    misfit, past = told
    if past is None:
        why = f"{misfit}, so its frames cannot be told apart by it (the table is wrong, or"
        fix = "the file was cut and patched); rewrite the file with a correct table or none."
        return f"encapsulated pixel data: {why} {fix}", False
    return (f"encapsulated pixel data: frames taken {past[1]}, the Basic Offset Table "
            f"ignored ({misfit})"), True  # fmt: skip


def mend_offset_table(ds: Dataset, frames: int) -> Dataset:
    """``ds`` itself, or a new data set whose Basic Offset Table is the fragments' own.

    Only where :func:`table_note` reads the frames past a wrong table and the pixel data was
    read (the elements are shared; the pixel data is the new one's own), so that every
    decoder after it splits the frames as the note says.
    """
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is None or syntax in _NATIVE:  # before the pixel data is looked at, so that
        return ds  # a plain file's checks are kept for its series (plain_memo)
    elem = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    value = getattr(elem, "value", None)
    if not isinstance(value, bytes) or not getattr(elem, "is_undefined_length", False):
        return ds  # native, or left in the file
    told = _past_table(ds, frames)
    if told is None or told[1] is None:
        return ds
    past = told[1]
    (length,) = struct.unpack("<I", value[4:8])
    table = struct.pack(f"<{len(past[0])}I", *past[0])
    mended = Dataset()
    mended.update(ds)
    mended.file_meta = ds.file_meta
    mended.set_original_encoding(*_encoding(ds))
    body = ITEM + struct.pack("<I", len(table)) + table + value[8 + length :]
    mended.add_new(0x7FE00010, elem.VR if elem is not None else "OB", body)
    mended["PixelData"].is_undefined_length = True
    return mended


def _encoding(ds: Dataset) -> tuple[bool, bool]:
    implicit, little = ds.original_encoding
    return bool(implicit), little is not False
