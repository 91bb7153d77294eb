"""Where a Part 10 file's data start when its 'DICM' prefix is not where PS3.10 7.1 puts it.

A file has a 128-byte preamble, then 'DICM', then the File Meta group (0002). Readers that
look only at bytes 128-131 (pydicom's ``read_preamble``, dcm4che's guess) misread two kinds of
files: a data set without preamble whose own bytes 128-131 happen to spell 'DICM' (a text
value there; dcm4che #981), read as a preamble and a File Meta that is not one, and refused
as truncated; and a file written with the prefix at offset 0 and no preamble before it,
whose 'DICM' was read as a tag. Both are told by what follows: a File Meta starts with a
(0002,xxxx) tag, a data set without one with (0002,xxxx) or (0008,xxxx) (PS3.10 7.1, PS3.5
7.1: little-endian group number first).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

__all__ = ["misplaced_prefix", "read_from"]

_META = b"\x02\x00"
_STARTS = (b"\x02\x00", b"\x08\x00")


def misplaced_prefix(head: bytes) -> tuple[int, str] | None:
    r"""``(offset to read from, note)`` when the prefix is not at 128 as it seems; else ``None``.

    Examples
    --------
    >>> misplaced_prefix(b"DICM\x02\x00\x00\x00UL")[0]
    4
    >>> misplaced_prefix(b"\x08\x00" + b"x" * 126 + b"DICM" + b"x" * 8)[0]
    0
    >>> misplaced_prefix(b"\x00" * 128 + b"DICM\x02\x00") is None
    True
    """
    if head[128:132] == b"DICM" and head[132:134] != _META and head[:2] in _STARTS:
        return 0, ("no 128-byte preamble: bytes 128-131 of the data set spell 'DICM' (a "
                   "value, not the prefix); read from offset 0")  # fmt: skip
    if head[:4] == b"DICM" and head[4:6] == _META and head[128:132] != b"DICM":
        return 4, ("the 'DICM' prefix is at offset 0, without the 128-byte preamble before it "
                   "(PS3.10 7.1); read from there")  # fmt: skip
    return None


def read_from(path: str | Path, moved: tuple[int, str]) -> Any:
    """The file read with pydicom from ``moved``'s offset, with its note.

    pydicom reads a preamble wherever bytes 128-131 are 'DICM', so the data are given to it
    behind a blank preamble and prefix, in memory (such files are rare, and their element
    offsets would not be the file's: nothing is deferred).
    """
    from pydicom import dcmread

    offset, note = moved
    data = Path(path).read_bytes()[offset:]
    ds = dcmread(io.BytesIO(bytes(128) + b"DICM" + data), force=True)
    ds.radpipe_notes = [*getattr(ds, "radpipe_notes", []), note]
    return ds
