"""Unsigned values stored under PixelRepresentation 1: said, never silently rendered.

The reverse of :mod:`pipeline.dicom.wrapped_sign`: a writer that stores unsigned values (an
MR or CR scaled to 0..65535) but declares PixelRepresentation (0028,0103) 1 makes every value
of 32768 or more read as a large negative number (40000 reads -25536). pydicom and dcmtk read
the values as the header says, and so does radpipe; what the header declares beside them
can tell the fault: a SmallestImagePixelValue (0028,0106) above the smallest value read is
impossible for the data as read. :func:`unsigned_data_note` says so, with the range the
values would have read as unsigned, so the user can judge. Declared values copied from
another image fit neither reading (dcm_qa_12bit's signed file keeps its unsigned original's
0 and 2908): when the unsigned values pass the LargestImagePixelValue (0028,0107) too,
nothing is said.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.lut import little_endian
from pipeline.dicom.unsigned_vr import us_or_ss

__all__ = ["unsigned_data_note"]


def unsigned_data_note(
    ds: Any, stored: np.ndarray, bits: int, span: tuple[int, int] | None, *, signed: bool
) -> str:
    """A note when signed ``stored`` values go below the declared SmallestImagePixelValue.

    Not when, read unsigned, they would pass a declared LargestImagePixelValue as well.

    ``span``: the smallest and largest stored value (read as the header says), ``None`` when
    not integer grey data.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.SmallestImagePixelValue = 0
    >>> stored = np.array([-25536, 100, -1], np.int16)  # 40000, 100, 65535 written unsigned
    >>> unsigned_data_note(ds, stored, 16, (-25536, 100), signed=True).split(":")[0]
    'PixelRepresentation (0028,0103) is 1 (signed) but the values look unsigned'
    """
    if not signed or span is None or bits < 2 or span[0] >= 0:
        return ""
    declared = _declared(ds.get("SmallestImagePixelValue"), ds)
    if declared is None or span[0] >= declared:
        return ""
    unsigned = stored.astype(np.int64) & ((1 << bits) - 1)  # the same bits, unsigned
    largest = _declared(ds.get("LargestImagePixelValue"), ds)
    if largest is not None and int(unsigned.max()) > largest:
        return ""  # neither reading fits the declared range: stale values, not a sign fault
    return (
        "PixelRepresentation (0028,0103) is 1 (signed) but the values look unsigned: read as "
        f"signed they go down to {span[0]}, below the SmallestImagePixelValue (0028,0106) "
        f"{declared} the header declares, while read as unsigned ({bits} bits) they would "
        f"span {int(unsigned.min())} to {int(unsigned.max())}. The values are kept as the "
        "header states them (check the source, or set PixelRepresentation to 0 if the "
        "unsigned reading is right)"
    )


def _declared(value: Any, ds: Any) -> int | None:
    """A US or SS value as a number, ``None`` when absent or unreadable.

    Raw bytes (a VR left unresolved) are read as SS, as PixelRepresentation 1 resolves them.
    """
    try:
        return us_or_ss(value, little_endian(ds))
    except ValueError:
        return None
